/**
 * Coalesces the socket writes of one burst of work into one system call.
 *
 * On loopback every `write(2)` runs the whole TCP path and wakes the peer (20-60 µs here), so a
 * client that sends each command as it is issued pays that per command. Drivers batch with a
 * pipeline flushed by `setImmediate` (ioredis' auto-pipelining), which costs a turn of the event
 * loop on every command, one pipeline object per flush, and lets only one such pipeline run at a
 * time: a command issued while the previous flush awaits its replies waits for them.
 *
 * Corking the socket instead costs nothing in latency: it is corked by the first command of a
 * burst and uncorked once the current callback, the ticks and the promise reactions it started
 * have run (a tick, then a microtask queued behind theirs, then a last tick after they drained);
 * every command issued meanwhile leaves in one `writev`, in issue order.
 */

/** The part of a socket the coalescer uses (net.Socket, tls.TLSSocket). */
export interface Corkable {
  cork(): void
  uncork(): void
}

/** Corks a stream for the rest of the current tick; see the file header. */
export class WriteCoalescer {
  private corked: Corkable | undefined
  private readonly release = (): void => {
    const stream = this.corked
    this.corked = undefined
    stream?.uncork()
  }
  // Promise reactions queued by the burst run before this microtask; ticks they queue, before
  // the tick it queues.
  private readonly afterReactions = (): void => process.nextTick(this.release)
  private readonly afterTicks = (): void => queueMicrotask(this.afterReactions)

  /**
   * Holds the writes to `stream` until the end of the tick. Call it before issuing a command;
   * a stream already held this tick (or `undefined`, not connected yet) is left as it is.
   */
  hold(stream: Corkable | undefined): void {
    if (this.corked || !stream) return
    stream.cork()
    this.corked = stream
    process.nextTick(this.afterTicks)
  }

  /**
   * Sends what the held stream buffered so far and goes on holding it: for a long burst (a
   * batch of thousands of messages) whose first commands the peer can work on while the rest
   * are being encoded.
   */
  flush(): void {
    const stream = this.corked
    if (!stream) return
    stream.uncork()
    stream.cork()
  }
}
