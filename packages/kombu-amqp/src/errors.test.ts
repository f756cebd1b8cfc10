import { ChannelError, ConfigurationError, ConnectionError, QError, UnroutableError } from '@q/kombu'
import { describe, expect, it } from 'vitest'
import { classifyError, MessageNackedError, replyTextOf, toAmqpQError, toChannelError } from './errors.js'

const err = (message: string, code?: unknown) =>
  Object.assign(new Error(message), code === undefined ? {} : { code })

describe('classifyError', () => {
  it.each([
    ['socket refused', err('connect ECONNREFUSED 127.0.0.1:5672', 'ECONNREFUSED')],
    ['socket reset', err('read ECONNRESET', 'ECONNRESET')],
    ['broken pipe', err('write EPIPE', 'EPIPE')],
    ['timeout', err('connect ETIMEDOUT')],
    ['heartbeat', err('Heartbeat timeout')],
    ['socket end', err('Unexpected close')],
    [
      'forced close',
      err(
        'Connection closed: 320 (CONNECTION-FORCED) with message "CONNECTION_FORCED - broker forced connection closure with reason \'shutdown\'"',
        320,
      ),
    ],
    ['frame error', err('Connection closed: 501 (FRAME-ERROR) with message "FRAME_ERROR"', 501)],
    [
      'channel error as connection error',
      err('Connection closed: 504 (CHANNEL-ERROR) with message "CHANNEL_ERROR"', 504),
    ],
    [
      'global qos on a quorum queue',
      err(
        "Connection closed: 540 (NOT-IMPLEMENTED) with message \"NOT_IMPLEMENTED - queue 'q' in vhost '/' does not support global qos\"",
        540,
      ),
    ],
    ['ConnectionError', new ConnectionError('lost')],
  ])('%s is a connection error', (_, e) => {
    expect(classifyError(e)).toBe('connection')
  })

  it.each([
    [
      'precondition failed',
      err(
        'Operation failed: QueueDeclare; 406 (PRECONDITION-FAILED) with message "PRECONDITION_FAILED - inequivalent arg"',
        406,
      ),
    ],
    [
      'not found',
      err(
        "Operation failed: QueueDeclare; 404 (NOT-FOUND) with message \"NOT_FOUND - no queue 'x' in vhost '/'\"",
        404,
      ),
    ],
    [
      'resource locked',
      err(
        'Channel closed by server: 405 (RESOURCE-LOCKED) with message "RESOURCE_LOCKED - cannot obtain exclusive access"',
        405,
      ),
    ],
    [
      'access refused on a channel',
      err(
        'Operation failed: QueueDeclare; 403 (ACCESS-REFUSED) with message "ACCESS_REFUSED - queue name \'amq.x\' contains reserved prefix"',
        403,
      ),
    ],
    ['a closed channel', err('Channel closed')],
    ['ChannelError', new ChannelError('refused')],
    ['a nack', new MessageNackedError('nacked')],
  ])('%s is a channel error', (_, e) => {
    expect(classifyError(e)).toBe('channel')
  })

  it.each([
    [
      'a refused login',
      err(
        'Handshake terminated by server: 403 (ACCESS-REFUSED) with message "ACCESS_REFUSED - Login was refused"',
        403,
      ),
    ],
    [
      'an unknown vhost',
      err('Connection closed: 530 (NOT-ALLOWED) with message "NOT_ALLOWED - vhost nope not found"', 530),
    ],
    ['a refused vhost', err('Expected ConnectionOpenOk; got <ConnectionClose channel:0>')],
    ['a bug', new TypeError('x is not a function')],
    ['a TLS certificate error', err('self-signed certificate', 'DEPTH_ZERO_SELF_SIGNED_CERT')],
    ['UnroutableError', new UnroutableError('NO_ROUTE')],
    ['not an error at all', 'boom'],
  ])('%s is fatal', (_, e) => {
    expect(classifyError(e)).toBe('fatal')
  })
})

describe('conversions', () => {
  it("a channel close keeps the server's reply code and text", () => {
    const e = toChannelError(
      err(
        'Operation failed: QueueDeclare; 406 (PRECONDITION-FAILED) with message "PRECONDITION_FAILED - inequivalent arg \'x-max-priority\'"',
        406,
      ),
      "declare queue 'q'",
    )
    expect(e).toBeInstanceOf(ChannelError)
    expect(e.replyCode).toBe(406)
    expect(e.replyText).toBe("PRECONDITION_FAILED - inequivalent arg 'x-max-priority'")
    expect(e.message).toBe("declare queue 'q': PRECONDITION_FAILED - inequivalent arg 'x-max-priority'")
  })

  it('maps by classification, and leaves QErrors alone', () => {
    expect(toAmqpQError(err('read ECONNRESET', 'ECONNRESET'))).toBeInstanceOf(ConnectionError)
    expect(
      toAmqpQError(
        err('Handshake terminated by server: 403 (ACCESS-REFUSED) with message "ACCESS_REFUSED"', 403),
      ),
    ).toBeInstanceOf(ConfigurationError)
    const q = new QError('mine')
    expect(toAmqpQError(q)).toBe(q)
    expect(toAmqpQError(new TypeError('bug'), 'publish').message).toBe('publish: bug')
  })

  it('reads the reply text of a close message', () => {
    expect(replyTextOf('Channel closed by server: 404 (NOT-FOUND) with message "NOT_FOUND - no queue"')).toBe(
      'NOT_FOUND - no queue',
    )
    expect(replyTextOf('plain')).toBeUndefined()
  })
})
