/**
 * Renders latest.md and latest.png again from a run's JSON (after a change to the report code):
 *
 *   npx tsx src/render.ts results/latest.json
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { chartPng } from './chart.js'
import { checks } from './report/bar.js'
import { markdown, type RunInfo } from './report/markdown.js'
import { type Measurement, Results } from './results.js'

const file = process.argv[2] ?? new URL('../results/latest.json', import.meta.url).pathname
const json = JSON.parse(readFileSync(file, 'utf8')) as RunInfo & {
  measurements: Record<string, Measurement>
  series: Results['series']
  skipped: Record<string, string>
  errors: Record<string, string>
}
const results = new Results()
Object.assign(results.measurements, json.measurements)
Object.assign(results.series, json.series)
Object.assign(results.skipped, json.skipped)
Object.assign(results.errors, json.errors)
const base = file.replace(/\.json$/, '')
const bar = checks(results)
writeFileSync(`${base}.md`, markdown(results, bar, json))
writeFileSync(file, `${JSON.stringify({ ...json, bar }, null, 2)}\n`)
const chart = await chartPng(
  results,
  `q vs peers, N=${json.n.toLocaleString('en-US')}, ${json.date.slice(0, 10)}`,
)
if (chart.png) writeFileSync(`${base}.png`, chart.png)
console.log(`rendered ${base}.md${chart.png ? ` and ${base}.png` : ''}`)
