import { describe, expect, it } from 'vitest'
import { AckBatcher } from './acks.js'

function batcher() {
  const sent: string[] = []
  let fail: Error | undefined
  const acks = new AckBatcher(
    {
      ack: (tag, multiple) => {
        if (fail) throw fail
        sent.push(`ack ${tag}${multiple ? ' multiple' : ''}`)
      },
      reject: (tag, requeue) => sent.push(`reject ${tag}${requeue ? ' requeue' : ''}`),
    },
    (err) => new Error(`mapped: ${(err as Error).message}`),
  )
  return { acks, sent, failWith: (e: Error) => (fail = e) }
}

describe('AckBatcher', () => {
  it('coalesces the acks of one turn into one multiple ack when they are the oldest deliveries', async () => {
    const { acks, sent } = batcher()
    for (const tag of [1, 2, 3, 4]) acks.delivered(tag)
    const all = Promise.all([acks.ack(2), acks.ack(1), acks.ack(3)])
    expect(sent).toEqual([]) // nothing before the end of the turn
    await all
    expect(sent).toEqual(['ack 3 multiple'])
    expect(acks.size).toBe(1)
    expect(acks.holds(4)).toBe(true)
  })

  it('never acks past a delivery still held: the others go one by one', async () => {
    const { acks, sent } = batcher()
    for (const tag of [1, 2, 3, 4, 5]) acks.delivered(tag)
    await Promise.all([acks.ack(1), acks.ack(2), acks.ack(4), acks.ack(5)])
    expect(sent).toEqual(['ack 2 multiple', 'ack 4', 'ack 5'])
    expect(acks.holds(3)).toBe(true)
  })

  it('a single ack is a plain ack', async () => {
    const { acks, sent } = batcher()
    acks.delivered(7)
    acks.delivered(8)
    await acks.ack(8)
    expect(sent).toEqual(['ack 8'])
  })

  it('a rejected delivery is sent at once and stops the run of a later multiple ack', async () => {
    const { acks, sent } = batcher()
    for (const tag of [1, 2, 3]) acks.delivered(tag)
    const a = acks.ack(1)
    await acks.reject(2, true)
    const c = acks.ack(3)
    await Promise.all([a, c])
    expect(sent).toEqual(['reject 2 requeue', 'ack 3 multiple'])
  })

  it('flush() sends at once (before a close or a recover)', () => {
    const { acks, sent } = batcher()
    acks.delivered(1)
    acks.delivered(2)
    void acks.ack(1)
    void acks.ack(2)
    acks.flush()
    expect(sent).toEqual(['ack 2 multiple'])
  })

  it('an explicit multiple ack sends the batch first, then settles everything up to its tag', async () => {
    const { acks, sent } = batcher()
    for (const tag of [1, 2, 3, 4]) acks.delivered(tag)
    void acks.ack(4)
    await acks.ack(2, true)
    expect(sent).toEqual(['ack 4', 'ack 2 multiple'])
    expect(acks.size).toBe(1)
    expect(acks.holds(3)).toBe(true)
  })

  it('fail() rejects the acks not yet sent, and every later one', async () => {
    const { acks } = batcher()
    acks.delivered(1)
    const pending = acks.ack(1)
    acks.fail(new Error('gone'))
    await expect(pending).rejects.toThrow('gone')
    await expect(acks.ack(1)).rejects.toThrow('gone')
    expect(acks.size).toBe(0)
  })

  it('a send that throws rejects the batch with the mapped error', async () => {
    const { acks, failWith } = batcher()
    acks.delivered(1)
    failWith(new Error('Channel closed'))
    await expect(acks.ack(1)).rejects.toThrow('mapped: Channel closed')
  })
})
