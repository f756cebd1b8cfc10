import { describe, expect, it } from 'vitest'
import { AckBatcher } from './acks.js'
import { TagWindow } from './tag-window.js'

/** A tiny deterministic PRNG, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff
    return s / 0x7fffffff
  }
}

describe('TagWindow', () => {
  it('holds, marks and settles tags, and grows past its first ring across a wrap', () => {
    const w = new TagWindow()
    for (let tag = 1; tag <= 200; tag++) w.add(tag)
    for (let tag = 1; tag <= 150; tag++) w.settle(tag) // the ring's head moves on
    for (let tag = 201; tag <= 1000; tag++) w.add(tag) // wraps, then grows
    expect(w.size).toBe(850)
    expect(w.isHeld(150)).toBe(false)
    expect(w.isHeld(151)).toBe(true)
    expect(w.isHeld(1000)).toBe(true)
    expect(w.markPending(500)).toBe(true)
    expect(w.markPending(500)).toBe(false)
    expect(w.isHeld(500)).toBe(false)
    w.settleUpTo(600)
    expect(w.size).toBe(400)
    expect(w.isHeld(601)).toBe(true)
  })

  it('the pending prefix skips tags never held (noAck deliveries) and stops at a held one', () => {
    const w = new TagWindow()
    for (const tag of [1, 2, 5, 6, 9]) w.add(tag)
    for (const tag of [1, 2, 5, 9]) w.markPending(tag)
    expect(w.pendingPrefix()).toEqual({ last: 5, count: 3 })
  })

  it('agrees with a Set of tags over random operations', () => {
    const next = random(42)
    const w = new TagWindow()
    const held = new Map<number, 'held' | 'pending'>()
    let tag = 0
    for (let step = 0; step < 5_000; step++) {
      const r = next()
      if (r < 0.4) {
        tag += next() < 0.1 ? 3 : 1 // some tags go to a noAck consumer
        w.add(tag)
        held.set(tag, 'held')
      } else if (r < 0.7 && held.size) {
        const t = [...held.keys()][Math.floor(next() * held.size)]!
        expect(w.markPending(t)).toBe(held.get(t) === 'held')
        held.set(t, 'pending')
      } else if (r < 0.95 && held.size) {
        const t = [...held.keys()][Math.floor(next() * held.size)]!
        w.settle(t)
        held.delete(t)
      } else if (held.size) {
        const upTo = Math.min(...held.keys()) + Math.floor(next() * 5)
        w.settleUpTo(upTo)
        for (const t of [...held.keys()]) if (t <= upTo) held.delete(t)
      }
      expect(w.size).toBe(held.size)
    }
    for (let t = 0; t <= tag; t++) expect(w.isHeld(t)).toBe(held.get(t) === 'held')
  }, 30_000) // copies of the model's keys make it quadratic: seconds on a loaded machine
})

describe('AckBatcher over random acks and rejects', () => {
  it('acks exactly the deliveries asked for, never one still held', async () => {
    const next = random(7)
    const atBroker = new Set<number>()
    const asked = new Set<number>()
    let frames = 0
    const acks = new AckBatcher(
      {
        ack: (tag, multiple) => {
          frames++
          const covered = multiple ? [...atBroker].filter((t) => t <= tag) : [tag]
          for (const t of covered) {
            expect(asked.has(t), `tag ${t} acked without being asked`).toBe(true)
            atBroker.delete(t)
          }
        },
        reject: (tag) => {
          atBroker.delete(tag)
        },
      },
      (err) => err as Error,
    )
    let tag = 0
    const inHand: number[] = []
    for (let turn = 0; turn < 300; turn++) {
      for (let k = Math.floor(next() * 20); k > 0; k--) {
        tag++
        atBroker.add(tag)
        acks.delivered(tag)
        inHand.push(tag)
      }
      const settled: Array<Promise<void>> = []
      for (let k = Math.floor(next() * 20); k > 0 && inHand.length; k--) {
        // Mostly the oldest first, as a worker does, sometimes any of them.
        const at = next() < 0.8 ? 0 : Math.floor(next() * inHand.length)
        const [t] = inHand.splice(at, 1)
        if (next() < 0.05) settled.push(acks.reject(t!, true))
        else {
          asked.add(t!)
          settled.push(acks.ack(t!))
        }
      }
      await Promise.all(settled)
    }
    for (const t of inHand) expect(atBroker.has(t)).toBe(true)
    expect(atBroker.size).toBe(inHand.length)
    expect(acks.size).toBe(inHand.length)
    expect(frames).toBeLessThan(asked.size / 2) // coalesced
  })
})
