import { describe, expect, it } from 'vitest'
import { WriteCoalescer } from './write-coalescer.js'

/** A stream that records what happened to it. */
function recorder() {
  const log: string[] = []
  let depth = 0
  return {
    log,
    stream: {
      cork: () => {
        depth++
        log.push('cork')
      },
      uncork: () => {
        depth--
        log.push('uncork')
      },
    },
    write: (what: string) => log.push(depth > 0 ? `held ${what}` : `sent ${what}`),
  }
}

describe('WriteCoalescer', () => {
  it('holds the writes of a burst, its ticks and promise reactions, and releases them together', async () => {
    const r = recorder()
    const w = new WriteCoalescer()
    w.hold(r.stream)
    r.write('a')
    process.nextTick(() => {
      w.hold(r.stream)
      r.write('b')
    })
    void Promise.resolve()
      .then(() => {
        w.hold(r.stream)
        r.write('c')
      })
      .then(() => {
        w.hold(r.stream)
        r.write('d')
      })
    await new Promise((done) => setImmediate(done))
    // Ticks and reactions run in either order depending on where the burst started; all are held.
    expect(r.log[0]).toBe('cork')
    expect(r.log.slice(1, 5).sort()).toEqual(['held a', 'held b', 'held c', 'held d'])
    expect(r.log.slice(5)).toEqual(['uncork'])
  })

  it('corks again in the next burst, and ignores a stream not connected yet', async () => {
    const r = recorder()
    const w = new WriteCoalescer()
    w.hold(undefined)
    w.hold(r.stream)
    r.write('a')
    await new Promise((done) => setImmediate(done))
    w.hold(r.stream)
    r.write('b')
    await new Promise((done) => setImmediate(done))
    expect(r.log).toEqual(['cork', 'held a', 'uncork', 'cork', 'held b', 'uncork'])
  })

  it('flushes what a long burst holds so far and goes on holding the rest', async () => {
    const r = recorder()
    const w = new WriteCoalescer()
    w.flush() // nothing held: nothing to do
    w.hold(r.stream)
    r.write('a')
    w.flush()
    r.write('b')
    await new Promise((resolve) => setImmediate(resolve))
    expect(r.log).toEqual(['cork', 'held a', 'uncork', 'cork', 'held b', 'uncork'])
  })
})
