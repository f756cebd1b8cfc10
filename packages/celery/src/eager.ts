/**
 * `taskAlwaysEager`: tasks sent through the app run in the caller at once instead of going to a
 * broker (for tests), as Celery's eager mode. Results are kept in a store of the app's own, so
 * the AsyncResult the caller gets works as usual; with `taskEagerPropagates` a failure is
 * thrown at the call.
 */
import { randomUUID } from 'node:crypto'
import type { SerializerRegistry } from '@q/kombu'
import { KeyValueBackend } from './backends/key-value.js'
import { MemoryStore } from './backends/memory.js'
import { AsyncResult } from './result/async-result.js'
import { serializeError } from './result/exceptions.js'
import { states } from './states.js'
import type { Task } from './task.js'
import type { CallOptions } from './task-types.js'

/** Runs tasks eagerly and remembers their results. */
export class EagerRunner {
  private readonly backend: KeyValueBackend

  constructor(
    serializers: SerializerRegistry,
    private readonly propagate: boolean,
  ) {
    this.backend = new KeyValueBackend({ url: 'eager://', store: new MemoryStore(), serializers })
  }

  /** Runs `task` now; resolves with its AsyncResult (or throws its error with `propagate`). */
  async run<R>(
    task: Task<never[], unknown>,
    args: unknown[],
    kwargs: Record<string, unknown>,
    options: CallOptions,
  ): Promise<AsyncResult<R>> {
    const id = options.taskId ?? randomUUID()
    const eager = await task.apply(args as never[], kwargs, { taskId: id })
    if (eager.failed()) {
      const err = eager.result
      if (this.propagate) throw err
      await this.backend.storeResult(id, serializeError(err), states.FAILURE, { traceback: eager.traceback })
    } else {
      await this.backend.storeResult(id, eager.result, eager.state)
    }
    return new AsyncResult<R>(id, { backend: async () => this.backend, revoke: async () => {} })
  }
}
