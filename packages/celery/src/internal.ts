/**
 * @q/celery/internal: building blocks for sibling packages (result backends, the monitor,
 * tests). Not for applications: it may change in any minor release.
 */
export { pending } from './backends/key-value.js'
export { MemoryStore } from './backends/memory.js'
export { createBackend } from './backends/registry.js'
export type { Outcome, RunEnvironment, Runnable } from './execute.js'
export { backoffCountdown, callArguments, makeRetry, runTask } from './execute.js'
export { pythonRepr, saferepr } from './protocol/python-repr.js'
export type { ReceivedTask, TaskMessage, TaskMessageFields } from './protocol/task-message.js'
export { buildTaskMessage, InvalidTaskMessageError, readTaskMessage } from './protocol/task-message.js'
export { isoformatNaive, isoformatUtc, parseIso } from './protocol/time.js'
export type { SerializedError } from './result/exceptions.js'
export { deserializeError, errorRepr, JS_ERROR_MODULE, serializeError } from './result/exceptions.js'
export type { Route, RouteRequest } from './routing.js'
export { buildQueues, compileRoutes, defaultQueue, Router } from './routing.js'
export { parseRate, TokenBucket } from './worker/rate-limit.js'
export { RevokedSet } from './worker/revoked.js'
