import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { hasFlags, heapFlags, RELAUNCHED_ENV, relaunch, runtimeHeapFlags } from './node-flags.js'

describe('q worker heap settings', () => {
  it('maps the options to node flags, none by default', () => {
    expect(heapFlags({})).toEqual([])
    expect(heapFlags({ maxSemiSpaceSize: '2', optimizeForSize: true })).toEqual([
      '--max-semi-space-size=2',
      '--optimize-for-size',
    ])
    expect(() => heapFlags({ maxSemiSpaceSize: '0.5' })).toThrow(/whole number/)
    expect(() => heapFlags({ maxSemiSpaceSize: 'big' })).toThrow(/whole number/)
  })

  it('sets the heap growing percentage in the running process, and only a valid one', () => {
    const set: string[] = []
    const setFlags = (f: string) => void set.push(f)
    expect(runtimeHeapFlags({}, setFlags)).toEqual([])
    expect(runtimeHeapFlags({ maxSemiSpaceSize: '4' }, setFlags)).toEqual([])
    expect(set).toEqual([])
    expect(runtimeHeapFlags({ heapGrowingPercent: '30' }, setFlags)).toEqual(['--heap-growing-percent=30'])
    expect(set).toEqual(['--heap-growing-percent=30'])
    for (const bad of ['0', '1.5', 'lots', '1001', '-5'])
      expect(() => runtimeHeapFlags({ heapGrowingPercent: bad }, setFlags)).toThrow(
        /whole number from 1 to 1000/,
      )
    expect(set).toHaveLength(1)
    // It is not a restart flag: V8 reads it at every full collection.
    expect(heapFlags({ heapGrowingPercent: '30' })).toEqual([])
  })

  it('relaunches only a process that does not run with the flags yet', () => {
    const flags = ['--max-semi-space-size=1']
    expect(hasFlags(flags, [], {})).toBe(false)
    expect(hasFlags(flags, ['--max-semi-space-size=1'], {})).toBe(true)
    expect(hasFlags(flags, [], { NODE_OPTIONS: '--max-semi-space-size=1 --trace-gc' })).toBe(true)
    // The relaunched process (flags maybe in NODE_OPTIONS rather than execArgv) does not again.
    expect(hasFlags(flags, [], { [RELAUNCHED_ENV]: '--max-semi-space-size=1' })).toBe(true)
  })

  it('starts node with the flags and returns its exit code', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'q-node-flags-'))
    const out = join(dir, 'out.json')
    const script = join(dir, 'probe.cjs')
    // The child reports the node flags it runs with (V8 takes heap sizes from them at start).
    writeFileSync(
      script,
      `require('node:fs').writeFileSync(process.argv[2], JSON.stringify({ argv: process.execArgv, env: process.env.${RELAUNCHED_ENV} }));
       process.exit(7)`,
    )
    const code = await relaunch(['--max-semi-space-size=1', '--optimize-for-size'], script, [out], {
      replace: false,
    })
    expect(code).toBe(7)
    const seen = JSON.parse(readFileSync(out, 'utf8'))
    expect(seen.argv).toEqual(expect.arrayContaining(['--max-semi-space-size=1', '--optimize-for-size']))
    expect(seen.env).toBe('--max-semi-space-size=1 --optimize-for-size')
  })
})
