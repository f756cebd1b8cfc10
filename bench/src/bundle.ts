/**
 * The worker processes run from an esbuild bundle of child-main.ts and the q sources (condition
 * `@q/source`), started with plain `node`: what a deployed worker runs (built JavaScript), and no
 * tsx in the measured process (tsx adds ~30 MB of RSS and its own start-up). The bundle is split
 * in a chunk per role (dynamic import), so each worker loads its own code and drivers only. The
 * drivers (ioredis, amqplib, bullmq, msgpackr) stay in node_modules, as in production. The bundle has a source map,
 * which profile-summary.ts uses to put CPU profiles back on the sources (tsx's output has every
 * file on one line, so profiles taken under tsx cannot say where).
 */
import { readFileSync } from 'node:fs'
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Plugin } from 'esbuild'

/**
 * A change to a library source applied to the bundle only (`--patch=patches.json`): how a
 * proposed fix is measured without editing the sources. `file` is relative to the repository.
 */
export interface SourcePatch {
  file: string
  find: string
  replace: string
}

/**
 * Applied to every bundle: @q/celery loads the Redis result backend by name at run time
 * (`importOptional(pkg)`), which a bundler cannot follow; a deployed worker finds the built
 * package in node_modules. Here the name is written out, so the bundle holds the package's
 * sources (in a chunk of its own, loaded only by a worker with a Redis result backend).
 */
const BUILTIN: readonly SourcePatch[] = [
  {
    file: 'packages/celery/src/backends/registry.ts',
    find: 'mod = await importOptional<typeof mod>(pkg)',
    replace:
      "mod = await (pkg === '@q/backend-redis' ? import('@q/backend-redis') : importOptional<typeof mod>(pkg))",
  },
]

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const built = new Map<string, Promise<string>>()
let patches: readonly SourcePatch[] = []

/** Sets the patches the next bundles get (read from a JSON file). */
export function usePatches(file: string | undefined): readonly SourcePatch[] {
  patches = file ? (JSON.parse(readFileSync(file, 'utf8')) as SourcePatch[]) : []
  return patches
}

function patchPlugin(list: readonly SourcePatch[]): Plugin {
  return {
    name: 'bench-patches',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, (args) => {
        const rel = relative(ROOT, args.path)
        const mine = list.filter((p) => p.file === rel)
        if (!mine.length) return undefined
        let text = readFileSync(args.path, 'utf8')
        for (const p of mine) {
          if (!text.includes(p.find))
            throw new Error(`patch does not apply to ${rel}: ${p.find.slice(0, 60)}`)
          text = text.replace(p.find, p.replace)
        }
        return { contents: text, loader: 'ts' }
      })
    },
  }
}

/** Bundles `entry` (a file of src/) once per run; resolves with the bundle's path. */
export function bundle(entry: string): Promise<string> {
  let p = built.get(entry)
  if (!p) {
    p = (async () => {
      const { build } = await import('esbuild')
      const name = entry.replace(/\.ts$/, '')
      const outdir = fileURLToPath(new URL('../results/tmp/bundles/', import.meta.url))
      await build({
        entryPoints: { [name]: fileURLToPath(new URL(`./${entry}`, import.meta.url)) },
        outdir,
        outExtension: { '.js': '.mjs' },
        chunkNames: `${name}-chunks/[name]-[hash]`,
        // A chunk per dynamic import: a worker process loads its own role's code and drivers
        // only. In one file, esbuild hoists every external import (bullmq, amqplib, ioredis,
        // msgpackr) to the top, and every role paid for all of them in RSS.
        splitting: true,
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        conditions: ['@q/source'],
        external: ['ioredis', 'amqplib', 'bullmq', 'msgpackr', 'esbuild', '@resvg/resvg-js'],
        sourcemap: true,
        logLevel: 'warning',
        plugins: [patchPlugin([...BUILTIN, ...patches])],
      })
      return `${outdir}${name}.mjs`
    })()
    built.set(entry, p)
  }
  return p
}

/** The bundle of the worker processes. */
export const workerBundle = () => bundle('child-main.ts')

// `npx tsx src/bundle.ts prof-publish.ts [--patch=patches.json]`: bundles entries of src/, prints their paths.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2)
  usePatches(args.find((a) => a.startsWith('--patch='))?.slice(8))
  for (const entry of args.filter((a) => !a.startsWith('--'))) console.log(await bundle(entry))
}
