/**
 * Summarises V8 CPU profiles (`node --cpu-prof`): the functions with the most self time, with
 * file:line, and the files that take the most. For results/profiles/*.md.
 *
 *   tsx src/profile-summary.ts results/profiles/q-redis-c100-*.cpuprofile [--top=30] [--window=w.json]
 */
import { existsSync, readFileSync } from 'node:fs'
import { SourceMap } from 'node:module'
import { dirname, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

interface Node {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }
  hitCount?: number
  children?: number[]
  positionTicks?: Array<{ line: number; ticks: number }>
}
interface Profile {
  nodes: Node[]
  samples?: number[]
  timeDeltas?: number[]
  startTime: number
  endTime: number
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

function where(url: string): string {
  if (!url) return '(native)'
  const path = url.startsWith('file://') ? fileURLToPath(url) : url
  const rel = path.startsWith(ROOT) ? relative(ROOT, path) : path
  return rel.replace(/^.*node_modules\/\.pnpm\/[^/]+\/node_modules\//, '')
}

const maps = new Map<string, SourceMap | undefined>()

/** The source map next to a bundle (`<file>.map`), if any. */
function mapOf(url: string): SourceMap | undefined {
  if (!url.startsWith('file://')) return undefined
  if (!maps.has(url)) {
    const file = `${fileURLToPath(url)}.map`
    maps.set(url, existsSync(file) ? new SourceMap(JSON.parse(readFileSync(file, 'utf8'))) : undefined)
  }
  return maps.get(url)
}

/** Where a generated position (0-based line and column) comes from: `file` and 1-based line. */
function original(url: string, line: number, column: number): { file: string; line: number } {
  const map = mapOf(url)
  if (!map) return { file: where(url), line: line + 1 }
  // The first mapping at or after `column` on that line (a profile's line ticks carry no column).
  for (let c = column; c < column + 400; c += 4) {
    const e = map.findEntry(line, c) as {
      generatedLine?: number
      originalSource?: string
      originalLine?: number
    }
    if (e.originalSource && e.generatedLine === line) {
      const src = e.originalSource.startsWith('file://')
        ? e.originalSource
        : resolve(dirname(fileURLToPath(url)), e.originalSource)
      return { file: where(src), line: (e.originalLine ?? 0) + 1 }
    }
  }
  return { file: where(url), line: line + 1 }
}

/**
 * Self time per function and per file, in ms, of one or more profiles; with `window` (µs on the
 * monotonic clock of `process.hrtime`, which the profiles' timestamps use), only the samples
 * taken in it.
 */
export function summarise(
  files: readonly string[],
  top = 30,
  window?: { start: number; end: number },
): string {
  const byFn = new Map<string, number>()
  const byFile = new Map<string, number>()
  let total = 0
  let idle = 0
  for (const file of files) {
    const p = JSON.parse(readFileSync(file, 'utf8')) as Profile
    const self = new Map<number, number>()
    const samples = p.samples ?? []
    const deltas = p.timeDeltas ?? []
    let at = p.startTime
    for (let i = 0; i < samples.length; i++) {
      at += deltas[i] ?? 0
      if (window && (at < window.start || at > window.end)) continue
      const us = deltas[i + 1] ?? deltas[i] ?? 0
      self.set(samples[i]!, (self.get(samples[i]!) ?? 0) + us / 1000)
    }
    for (const node of p.nodes) {
      const ms = self.get(node.id) ?? 0
      if (!ms) continue
      if (node.callFrame.functionName === '(idle)') {
        idle += ms
        continue
      }
      total += ms
      const f = node.callFrame
      const def = original(f.url, f.lineNumber, f.columnNumber)
      const hottest = [...(node.positionTicks ?? [])].sort((a, b) => b.ticks - a.ticks)[0]
      const hot = hottest ? original(f.url, hottest.line - 1, 0) : def
      const line = hot.file === def.file ? hot.line : def.line
      const key = `${f.functionName || '(anonymous)'} ${def.file}:${line}`
      byFn.set(key, (byFn.get(key) ?? 0) + ms)
      byFile.set(def.file, (byFile.get(def.file) ?? 0) + ms)
    }
  }
  const rows = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, ms]) => `| ${((ms / total) * 100).toFixed(1)}% | ${ms.toFixed(0)} | \`${k}\` |`)
  return [
    `Busy: ${total.toFixed(0)} ms sampled over ${files.length} profile(s), plus ${idle.toFixed(0)} ms idle; shares are of the busy time.`,
    '',
    '| self | ms | function (file:line of the hottest line) |',
    '| --- | --- | --- |',
    ...rows(byFn),
    '',
    '| self | ms | file |',
    '| --- | --- | --- |',
    ...rows(byFile),
  ].join('\n')
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2)
  const top = Number(args.find((a) => a.startsWith('--top='))?.slice(6) ?? 30)
  // --window=file.json: {start, end} in µs of process.hrtime (e.g. written by the measuring side).
  const windowFile = args.find((a) => a.startsWith('--window='))?.slice(9)
  const window = windowFile ? JSON.parse(readFileSync(windowFile, 'utf8')) : undefined
  console.log(
    summarise(
      args.filter((a) => !a.startsWith('--')),
      top,
      window,
    ),
  )
}
