/**
 * The async pool and the revoked-id set: small pieces of the worker, tested alone.
 */
import { describe, expect, it } from 'vitest'
import { AsyncPool } from './pool.js'
import { RevokedSet } from './revoked.js'

function gate() {
  let open!: () => void
  const promise = new Promise<void>((r) => {
    open = r
  })
  return { promise, open }
}

describe('AsyncPool', () => {
  it('runs at most `concurrency` jobs, the rest in arrival order', async () => {
    const pool = new AsyncPool(2)
    const gates = [gate(), gate(), gate(), gate()]
    const started: number[] = []
    for (const [i, g] of gates.entries()) {
      pool.submit(`k${i}`, async () => {
        started.push(i)
        await g.promise
      })
    }
    expect(pool.running).toBe(2)
    expect(pool.queued).toBe(2)
    expect(started).toEqual([0, 1])
    gates[1]!.open()
    await new Promise((r) => setTimeout(r, 0))
    expect(started).toEqual([0, 1, 2])
    for (const g of gates) g.open()
    await pool.idle()
    expect(started).toEqual([0, 1, 2, 3])
    expect(pool.running).toBe(0)
  })

  it('frees the slot of a job that fails', async () => {
    const pool = new AsyncPool(1)
    let ran = false
    pool.submit('bad', async () => {
      throw new Error('x')
    })
    pool.submit('good', async () => {
      ran = true
    })
    await pool.idle()
    expect(ran).toBe(true)
  })

  it('drops waiting jobs and returns their keys; idle() resolves at once when empty', async () => {
    const pool = new AsyncPool(1)
    const g = gate()
    pool.submit('a', () => g.promise)
    pool.submit('b', async () => {})
    pool.submit('c', async () => {})
    expect(pool.drop()).toEqual(['b', 'c'])
    expect(pool.queued).toBe(0)
    let idle = false
    const waiting = pool.idle().then(() => {
      idle = true
    })
    await new Promise((r) => setTimeout(r, 0))
    expect(idle).toBe(false)
    g.open()
    await waiting
    await new AsyncPool(3).idle()
  })
})

describe('AsyncPool with synchronous jobs', () => {
  it('frees the slot of a job that returns nothing at once, with no promise', () => {
    const pool = new AsyncPool(1)
    const ran: string[] = []
    for (const k of ['a', 'b', 'c']) pool.submit(k, () => void ran.push(k))
    // All three ran within submit(): each gave its only slot back synchronously.
    expect(ran).toEqual(['a', 'b', 'c'])
    expect(pool.running).toBe(0)
    expect(pool.queued).toBe(0)
  })

  it('runs jobs submitted by a running job after it, in order; a throwing job frees its slot', () => {
    const pool = new AsyncPool(1)
    const ran: string[] = []
    pool.submit('outer', () => {
      pool.submit('inner-1', () => void ran.push('inner-1'))
      pool.submit('inner-2', () => {
        throw new Error('x')
      })
      pool.submit('inner-3', () => void ran.push('inner-3'))
      ran.push('outer')
    })
    expect(ran).toEqual(['outer', 'inner-1', 'inner-3'])
    expect(pool.running).toBe(0)
  })

  it('runs jobs through its runner, mixing synchronous and asynchronous ones', async () => {
    const g = gate()
    const ran: number[] = []
    const pool = new AsyncPool<number>(2, (n) => {
      ran.push(n)
      return n === 0 ? g.promise : undefined
    })
    for (let i = 0; i < 4; i++) pool.submit(`k${i}`, i)
    expect(ran).toEqual([0, 1, 2, 3])
    expect(pool.running).toBe(1)
    const idle = pool.idle()
    g.open()
    await idle
    expect(pool.running).toBe(0)
  })
})

describe('RevokedSet', () => {
  it('remembers ids for `expires` seconds', () => {
    let now = 0
    const s = new RevokedSet(10, 60, () => now)
    s.add('a')
    expect(s.has('a')).toBe(true)
    expect(s.has('b')).toBe(false)
    now = 59_999
    expect(s.has('a')).toBe(true)
    now = 60_000
    expect(s.has('a')).toBe(false)
    expect(s.size).toBe(0)
  })

  it('forgets the oldest ids beyond `max`; re-adding renews an id', () => {
    const s = new RevokedSet(3, 60)
    for (const id of ['a', 'b', 'c']) s.add(id)
    s.add('a')
    s.add('d')
    expect(s.list()).toEqual(['c', 'a', 'd'])
    expect(s.size).toBe(3)
  })
})
