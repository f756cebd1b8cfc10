import { ChannelError, consoleLogger, InvalidOptionError } from '@q/kombu'
import { describe, expect, it } from 'vitest'
import type { Link } from './link.js'
import { QosPolicy } from './qos.js'

function fakeLink() {
  const sent: Array<[number, boolean]> = []
  const link = {
    ch: { prefetch: async (count: number, global: boolean) => void sent.push([count, global]) },
    qos: undefined,
    qosPending: false,
  } as unknown as Link
  return { link, sent }
}

const types = new Map([
  ['classic-q', 'classic'],
  ['quorum-q', 'quorum'],
  ['stream-q', 'stream'],
])
const policy = () => new QosPolicy(types, consoleLogger('silent'))

describe('QosPolicy', () => {
  it('a per-consumer prefetch is sent at once', async () => {
    const { link, sent } = fakeLink()
    const p = policy()
    p.set(10, false)
    await p.apply(link, [], false)
    expect(sent).toEqual([[10, false]])
  })

  it('a global prefetch waits for the first consume, then is global on classic queues', async () => {
    const { link, sent } = fakeLink()
    const p = policy()
    p.set(8, true)
    await p.apply(link, [], false)
    expect(sent).toEqual([])
    await p.beforeConsume(link, 'classic-q', [])
    expect(sent).toEqual([[8, true]])
    expect(link.qos).toEqual({ count: 8, global: true })
  })

  it('becomes per-consumer when the channel consumes or declared a quorum or stream queue', async () => {
    for (const [queue, declared] of [
      ['quorum-q', []],
      ['classic-q', ['stream-q']],
    ] as const) {
      const { link, sent } = fakeLink()
      const p = policy()
      p.set(8, true)
      await p.apply(link, [], false)
      await p.beforeConsume(link, queue, declared)
      expect(sent).toEqual([[8, false]])
    }
  })

  it('refuses a quorum consume on a channel already under a global prefetch (RabbitMQ would close the connection)', async () => {
    const { link } = fakeLink()
    const p = policy()
    p.set(8, true)
    await p.apply(link, ['classic-q'], true)
    await expect(p.beforeConsume(link, 'quorum-q', [])).rejects.toBeInstanceOf(ChannelError)
    await expect(p.beforeConsume(link, 'classic-q', [])).resolves.toBeUndefined()
  })

  it('checks the count', () => {
    expect(() => policy().set(-1, false)).toThrow(InvalidOptionError)
    expect(() => policy().set(70000, false)).toThrow(InvalidOptionError)
  })
})
