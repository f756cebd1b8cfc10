/**
 * A TransportConnection for virtual transports: it opens VirtualChannels and closes them all
 * (requeueing their unacked messages) when it closes.
 */
import type { Channel, TransportConnection } from '../types.js'
import { runAll } from '../util.js'
import { VirtualChannel, type VirtualChannelOptions } from './channel.js'

/** Opens channels from a factory of channel options; closing it closes every channel. */
export class VirtualConnection implements TransportConnection {
  private readonly channels = new Set<VirtualChannel>()
  private closing: Promise<void> | undefined
  private resolveClosed!: (err: Error | undefined) => void
  private readonly closedPromise = new Promise<Error | undefined>((r) => {
    this.resolveClosed = r
  })

  /**
   * @param channelOptions builds the options of each new channel.
   * @param onClose releases what the transport holds for this connection (sockets, timers).
   */
  constructor(
    private readonly channelOptions: () => Omit<VirtualChannelOptions, 'onClose'>,
    private readonly onClose?: () => void | Promise<void>,
  ) {}

  async createChannel(): Promise<Channel> {
    if (this.closing) throw new Error('connection is closed')
    const channel: VirtualChannel = new VirtualChannel({
      ...this.channelOptions(),
      onClose: () => this.channels.delete(channel),
    })
    this.channels.add(channel)
    return channel
  }

  close(): Promise<void> {
    this.closing ??= runAll([
      ...[...this.channels].map((c) => () => c.close()),
      () => this.onClose?.(),
    ]).finally(() => this.resolveClosed(undefined))
    return this.closing
  }

  closed(): Promise<Error | undefined> {
    return this.closedPromise
  }
}
