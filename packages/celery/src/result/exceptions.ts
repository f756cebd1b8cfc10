/**
 * Task errors on the wire, as Celery writes them: `{exc_type, exc_message, exc_module}`, with
 * `exc_message` the exception's args as a list. A Python client rebuilds the class from module
 * and type (a synthetic class when it does not know the module), so JS errors named like
 * Python's builtins (TypeError, ValueError, KeyError...) come back as those.
 */
import {
  ChordError,
  MaxRetriesExceededError,
  SoftTimeLimitExceeded,
  TaskError,
  TaskRevokedError,
  TimeLimitExceeded,
} from '../errors.js'

/** Celery's exception dict. */
export interface SerializedError {
  exc_type: string
  exc_message: unknown[]
  exc_module: string
}

/** Python builtin exception names: a JS error with one of these names maps to `builtins`. */
const PY_BUILTINS = new Set(
  'ArithmeticError AssertionError AttributeError BaseException BufferError EOFError Exception FloatingPointError GeneratorExit ImportError IndexError KeyError KeyboardInterrupt LookupError MemoryError ModuleNotFoundError NameError NotImplementedError OSError OverflowError RecursionError ReferenceError RuntimeError StopIteration SyntaxError SystemError SystemExit TypeError UnboundLocalError UnicodeError ValueError ZeroDivisionError ConnectionError TimeoutError FileNotFoundError PermissionError'.split(
    ' ',
  ),
)

/** The module reported for JS errors that are not Python builtins: unknown to Python on purpose. */
export const JS_ERROR_MODULE = 'q.exceptions'

/** Serializes anything thrown by a task. */
export function serializeError(err: unknown): SerializedError {
  if (err instanceof TaskError)
    return { exc_type: err.excType, exc_message: err.excArgs, exc_module: err.excModule }
  if (err instanceof Error) {
    const name = err.name && err.name !== 'Error' ? err.name : err.constructor?.name || 'Error'
    const args = (err as { args?: unknown }).args
    return {
      exc_type: name,
      exc_message: Array.isArray(args) ? args : [err.message],
      exc_module: PY_BUILTINS.has(name) ? 'builtins' : JS_ERROR_MODULE,
    }
  }
  return { exc_type: 'Exception', exc_message: [String(err)], exc_module: 'builtins' }
}

/** The text Celery shows for an exception: `ValueError('boom', 42)`. */
export function errorRepr(e: SerializedError): string {
  const args = e.exc_message.map((a) =>
    typeof a === 'string' ? `'${a.replace(/'/g, "\\'")}'` : JSON.stringify(a),
  )
  return `${e.exc_type}(${args.join(', ')})`
}

function isSerializedError(v: unknown): v is SerializedError {
  return !!v && typeof v === 'object' && typeof (v as SerializedError).exc_type === 'string'
}

/** Rebuilds a typed error from a stored result. */
export function deserializeError(value: unknown, traceback: string | null = null): TaskError {
  if (!isSerializedError(value)) return new TaskError(String(value), { traceback })
  const args = Array.isArray(value.exc_message) ? value.exc_message : [value.exc_message]
  const details = { excType: value.exc_type, excModule: value.exc_module, excArgs: args, traceback }
  const first = typeof args[0] === 'string' ? args[0] : args.length ? JSON.stringify(args[0]) : ''
  switch (value.exc_type) {
    case 'TaskRevokedError':
      return new TaskRevokedError(first || 'revoked', details)
    case 'TimeLimitExceeded':
      return new TimeLimitExceeded(Number(args[0]) || 0, details)
    case 'SoftTimeLimitExceeded':
      return new SoftTimeLimitExceeded(details)
    case 'MaxRetriesExceededError':
      return new MaxRetriesExceededError(first, details)
    case 'ChordError':
      return new ChordError(first, details)
    default:
      return new TaskError(args.length > 1 ? errorRepr({ ...value, exc_message: args }) : first, details)
  }
}
