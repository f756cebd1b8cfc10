/**
 * Signals: hooks into the life of tasks and workers, named as Celery's (camelCase). Listeners
 * run synchronously; one that throws is reported and does not stop the others.
 */
import { Emitter } from '@q/kombu/internal'
import type { TaskRequest } from './task-types.js'

/** The payload of each signal. */
export interface SignalMap {
  [signal: string]: unknown
  beforeTaskPublish: {
    name: string
    id: string
    headers: Record<string, unknown>
    body: unknown
    exchange: string
    routingKey: string
  }
  afterTaskPublish: { name: string; id: string; exchange: string; routingKey: string }
  taskPrerun: { request: TaskRequest }
  taskPostrun: { request: TaskRequest; state: string; result: unknown }
  taskSuccess: { request: TaskRequest; result: unknown; runtime: number }
  taskFailure: { request: TaskRequest; error: unknown; traceback: string | null }
  taskRetry: { request: TaskRequest; reason: unknown; when: Date | undefined }
  taskRevoked: { id: string; name: string; terminated: boolean; expired: boolean }
  taskRejected: { id: string | undefined; reason: unknown }
  taskUnknown: { name: string; id: string | undefined }
  workerReady: { hostname: string }
  workerShutdown: { hostname: string }
}

/** The signals of one app. */
export class Signals extends Emitter<SignalMap> {
  /** Sends a signal to its listeners. */
  send<K extends keyof SignalMap>(signal: K, payload: SignalMap[K]): void {
    this.emit(signal, payload)
  }

  /** Sends a signal whose payload is built only if someone listens (hot paths). */
  sendLazy<K extends keyof SignalMap>(signal: K, payload: () => SignalMap[K]): void {
    if (this.listenerCount(signal) > 0) this.emit(signal, payload())
  }
}
