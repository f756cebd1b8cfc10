/**
 * @q/celery: tasks, workers and results on @q/kombu, wire-compatible with Python Celery 5.
 * The public API, named one by one.
 */
export type { CeleryOptions, RevokeHandler } from './app.js'
export { Celery } from './app.js'
export type { KeyValueBackendOptions, KeyValueStore } from './backends/key-value.js'
export { KeyValueBackend } from './backends/key-value.js'
export type { BackendContext, BackendDriver } from './backends/registry.js'
export type { ResultBackend, StoreRequest, TaskMeta, WaitOptions } from './backends/types.js'
export type { CeleryConfig, ConfigInput, RouteOptions, RouterFunction, TaskRoutes } from './config/config.js'
export type { SettingName } from './config/settings.js'
export { SETTINGS, toEnv, toSnake } from './config/settings.js'
export { Control } from './control/control.js'
export type { ByNode, InspectOptions } from './control/inspect.js'
export { Inspect } from './control/inspect.js'
export type {
  ControlBroadcastOptions,
  ControlCommandOptions,
  ControlledWorker,
  ControlResult,
  ControlTarget,
  ExchangeDict,
  HelloReply,
  QueueDict,
  ScheduledInfo,
  TaskInfo,
  WorkerStats,
} from './control/types.js'
export type { WorkerControlOptions } from './control/worker-control.js'
export { WorkerControl } from './control/worker-control.js'
export type { CeleryErrorCode, TaskErrorDetails } from './errors.js'
export {
  CeleryError,
  ChordError,
  ConfigurationError,
  Ignore,
  MaxRetriesExceededError,
  NotRegisteredError,
  Reject,
  Retry,
  SoftTimeLimitExceeded,
  TaskError,
  TaskPredicate,
  TaskRevokedError,
  TimeLimitExceeded,
  TimeoutError,
} from './errors.js'
export type { Signature, TaskEmbed } from './protocol/task-message.js'
export type { GetOptions } from './result/async-result.js'
export { AsyncResult } from './result/async-result.js'
export type { SignalMap } from './signals.js'
export { Signals } from './signals.js'
export type { TaskState } from './states.js'
export { EXCEPTION_STATES, PROPAGATE_STATES, READY_STATES, states } from './states.js'
export { EagerResult, signature, Task } from './task.js'
export type {
  CallOptions,
  ErrorMatcher,
  RetryOptions,
  TaskCall,
  TaskContext,
  TaskOptions,
  TaskRequest,
} from './task-types.js'
export type { ActiveRequests, Listed } from './worker/active-requests.js'
export type { WorkerOptions } from './worker/worker.js'
export { expandNodeName, Worker } from './worker/worker.js'
export type { LogFormat, LogLevel } from './worker/worker-log.js'
