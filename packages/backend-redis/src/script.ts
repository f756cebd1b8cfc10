/**
 * A Lua script run by EVALSHA: Redis hashes and looks up a script sent by EVAL every time, and
 * its text travels on every call. It is sent by EVAL only when Redis does not know it yet (first
 * use, a SCRIPT FLUSH, a restart).
 */
import { createHash } from 'node:crypto'
import { Command, type Redis } from 'ioredis'

/** Whether a command failed because Redis does not have the script. */
export function isNoScript(err: unknown): boolean {
  return String((err as Error | undefined)?.message).startsWith('NOSCRIPT')
}

/** A script, by its SHA1. */
export class Script {
  readonly sha: string

  constructor(readonly lua: string) {
    this.sha = createHash('sha1').update(lua).digest('hex')
  }

  /**
   * Sends an EVALSHA now, as a plain command: written to the socket at once when the client is
   * connected (past ioredis' auto-pipeline, which would wait for the next turn of the event
   * loop), and without an ioredis pipeline object; falls back to EVAL.
   */
  send(
    client: Redis,
    keys: readonly string[],
    args: ReadonlyArray<string | number | Buffer>,
  ): Promise<unknown> {
    const sent = client.sendCommand(
      new Command('evalsha', [this.sha, keys.length, ...keys, ...args]),
    ) as Promise<unknown>
    return sent.catch((err: unknown) => {
      if (!isNoScript(err)) throw err
      return client.sendCommand(new Command('eval', [this.lua, keys.length, ...keys, ...args]))
    })
  }
}
