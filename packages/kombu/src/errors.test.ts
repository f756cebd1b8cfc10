import { describe, expect, it } from 'vitest'
import {
  ChannelError,
  ClosedError,
  ConfigurationError,
  ConnectionError,
  ConnectionTimeoutError,
  ContentDisallowedError,
  DecodeError,
  EncodeError,
  InvalidOptionError,
  InvalidUrlError,
  LimitExceededError,
  MessageStateError,
  NotBoundError,
  NotSupportedError,
  QError,
  type QErrorCode,
  QueueEmptyError,
  SerializationError,
  TransportNotInstalledError,
  toQError,
  UnknownTransportError,
  UnroutableError,
} from './errors.js'

type AnyErrorClass = new (message: string, options?: { cause?: unknown }) => QError

/** Every class, its code and its parent, as drawn in the header of errors.ts. */
const TREE: Array<[cls: AnyErrorClass, code: QErrorCode, parent: AnyErrorClass | typeof Error]> = [
  [QError, 'ERR_Q', Error],
  [ConnectionError, 'ERR_CONNECTION', QError],
  [ConnectionTimeoutError, 'ERR_CONNECTION_TIMEOUT', ConnectionError],
  [ChannelError, 'ERR_CHANNEL', QError],
  [SerializationError, 'ERR_SERIALIZATION', QError],
  [EncodeError, 'ERR_ENCODE', SerializationError],
  [DecodeError, 'ERR_DECODE', SerializationError],
  [ContentDisallowedError, 'ERR_CONTENT_DISALLOWED', SerializationError],
  [ConfigurationError, 'ERR_CONFIGURATION', QError],
  [InvalidUrlError, 'ERR_INVALID_URL', ConfigurationError],
  [InvalidOptionError, 'ERR_INVALID_OPTION', ConfigurationError],
  [UnknownTransportError, 'ERR_UNKNOWN_TRANSPORT', ConfigurationError],
  [
    class extends TransportNotInstalledError {
      constructor(message: string, options?: { cause?: unknown }) {
        super(message, '@q/pkg', options)
      }
    } as AnyErrorClass,
    'ERR_TRANSPORT_NOT_INSTALLED',
    ConfigurationError,
  ],
  [NotSupportedError, 'ERR_NOT_SUPPORTED', QError],
  [NotBoundError, 'ERR_NOT_BOUND', QError],
  [MessageStateError, 'ERR_MESSAGE_STATE', QError],
  [UnroutableError, 'ERR_UNROUTABLE', QError],
  [LimitExceededError, 'ERR_LIMIT_EXCEEDED', QError],
  [QueueEmptyError, 'ERR_QUEUE_EMPTY', QError],
  [ClosedError, 'ERR_CLOSED', QError],
]

const make = (cls: AnyErrorClass, options?: { cause?: unknown }) =>
  cls === (TransportNotInstalledError as unknown)
    ? new TransportNotInstalledError('boom', '@q/pkg', options)
    : new cls('boom', options)

describe('error classes', () => {
  it.each(TREE.map(([cls, code, parent]) => [cls.name, cls, code, parent] as const))(
    '%s: name, code, parent',
    (_, cls, code, parent) => {
      const err = make(cls)
      expect(err.code).toBe(code)
      expect(err).toBeInstanceOf(parent)
      expect(err).toBeInstanceOf(QError)
      expect(err).toBeInstanceOf(Error)
      expect(err.message).toBe('boom')
      expect(err.stack).toContain('boom')
    },
  )

  it('names every class after itself', () => {
    const named: Array<[AnyErrorClass, string]> = [
      [QError, 'QError'],
      [ConnectionError, 'ConnectionError'],
      [ConnectionTimeoutError, 'ConnectionTimeoutError'],
      [ChannelError, 'ChannelError'],
      [SerializationError, 'SerializationError'],
      [EncodeError, 'EncodeError'],
      [DecodeError, 'DecodeError'],
      [ContentDisallowedError, 'ContentDisallowedError'],
      [ConfigurationError, 'ConfigurationError'],
      [InvalidUrlError, 'InvalidUrlError'],
      [InvalidOptionError, 'InvalidOptionError'],
      [UnknownTransportError, 'UnknownTransportError'],
      [NotSupportedError, 'NotSupportedError'],
      [NotBoundError, 'NotBoundError'],
      [MessageStateError, 'MessageStateError'],
      [UnroutableError, 'UnroutableError'],
      [LimitExceededError, 'LimitExceededError'],
      [QueueEmptyError, 'QueueEmptyError'],
      [ClosedError, 'ClosedError'],
    ]
    for (const [cls, name] of named) expect(new cls('x').name).toBe(name)
    expect(new TransportNotInstalledError('x', 'p').name).toBe('TransportNotInstalledError')
    expect(String(new ClosedError('gone'))).toBe('ClosedError: gone')
  })

  it('names a subclass defined by a transport after the subclass', () => {
    class RedisResponseError extends ChannelError {}
    const err = new RedisResponseError('bad')
    expect(err.name).toBe('RedisResponseError')
    expect(err.code).toBe('ERR_CHANNEL')
  })

  it('keeps the cause', () => {
    const cause = new Error('socket hang up')
    for (const [cls] of TREE) expect(make(cls, { cause }).cause).toBe(cause)
    expect(new QError('no cause').cause).toBeUndefined()
  })

  it('does not put one branch under another', () => {
    expect(new ChannelError('x')).not.toBeInstanceOf(ConnectionError)
    expect(new ConnectionError('x')).not.toBeInstanceOf(ChannelError)
    expect(new InvalidUrlError('x')).not.toBeInstanceOf(SerializationError)
    expect(new DecodeError('x')).not.toBeInstanceOf(ConfigurationError)
    expect(new ConnectionError('x')).not.toBeInstanceOf(ConnectionTimeoutError)
  })

  it('ChannelError carries the reply code and text', () => {
    const err = new ChannelError('PRECONDITION_FAILED', {
      replyCode: 406,
      replyText: 'PRECONDITION_FAILED',
      cause: 1,
    })
    expect(err.replyCode).toBe(406)
    expect(err.replyText).toBe('PRECONDITION_FAILED')
    expect(err.cause).toBe(1)
    expect(new ChannelError('x').replyCode).toBeUndefined()
  })

  it('TransportNotInstalledError names the package', () => {
    const err = new TransportNotInstalledError('install it', '@q/kombu-amqp', { cause: 'c' })
    expect(err.packageName).toBe('@q/kombu-amqp')
    expect(err.cause).toBe('c')
  })
})

describe('toQError', () => {
  it('returns a QError as it is', () => {
    const err = new ChannelError('x')
    expect(toQError(err, 'connection')).toBe(err)
  })

  it('wraps other errors by class, keeping them as the cause', () => {
    const raw = new Error('ECONNRESET')
    const c = toQError(raw, 'connection')
    expect(c).toBeInstanceOf(ConnectionError)
    expect(c.message).toBe('ECONNRESET')
    expect(c.cause).toBe(raw)
    expect(toQError(raw, 'channel')).toBeInstanceOf(ChannelError)
    const fatal = toQError(raw)
    expect(fatal.constructor).toBe(QError)
    expect(fatal.cause).toBe(raw)
  })

  it('wraps thrown non-errors', () => {
    const err = toQError('just a string', 'fatal')
    expect(err).toBeInstanceOf(QError)
    expect(err.message).toBe('just a string')
    expect(err.cause).toBe('just a string')
  })
})
