/**
 * The RabbitMQ of the integration tests: its URL (a vhost made for the run by global-setup.ts)
 * and `rabbitmqctl`, for what only the broker's side can do (close connections, list queues).
 */
import { execFile, spawnSync } from 'node:child_process'
import { promisify } from 'node:util'
import { inject } from 'vitest'

declare module 'vitest' {
  export interface ProvidedContext {
    /** amqp:// URL of the run's vhost. */
    amqpUrl: string
    /** The run's vhost, or '/' when rabbitmqctl is not available. */
    amqpVhost: string
  }
}

/** The broker URL for this run, with its own vhost. */
export function amqpUrl(): string {
  return inject('amqpUrl')
}

/** The vhost of this run. */
export function amqpVhost(): string {
  return inject('amqpVhost')
}

/** Whether `rabbitmqctl` can be run here (it needs to be root or the rabbitmq user). */
export function hasRabbitmqctl(): boolean {
  return spawnSync('rabbitmqctl', ['-q', 'status'], { stdio: 'ignore', timeout: 30_000 }).status === 0
}

/** Runs `rabbitmqctl -q <args>`; resolves with stdout. */
export async function rabbitmqctl(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)('rabbitmqctl', ['-q', ...args], { timeout: 60_000 })
  return stdout
}

/** Closes every client connection to the run's vhost from the broker side (320 CONNECTION_FORCED). */
export async function closeAllConnections(reason = 'test'): Promise<void> {
  await rabbitmqctl('close_all_connections', '-p', amqpVhost(), reason)
}
