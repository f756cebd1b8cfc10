/** Transport options, credentials from the URL, and error classification. */

import { ChannelError, ConnectionError, InvalidOptionError } from '@q/kombu'
import { parseUrl } from '@q/kombu/internal'
import { describe, expect, it } from 'vitest'
import { ClientPool, endpointOf } from './clients.js'
import { classifyError, isLostHandle } from './errors.js'
import { resolveOptions } from './options.js'

describe('transport options', () => {
  it("defaults to Kombu's values", () => {
    expect(resolveOptions({})).toMatchObject({
      queueNamePrefix: '',
      visibilityTimeout: 1800,
      waitTimeSeconds: 10,
      sqsBase64Encoding: true,
      predefinedQueues: undefined,
      redrivePolicy: {},
    })
  })

  it('refuses values out of range with InvalidOptionError', () => {
    expect(() => resolveOptions({ waitTimeSeconds: 21 })).toThrow(InvalidOptionError)
    expect(() => resolveOptions({ visibilityTimeout: 1.5 })).toThrow(/visibilityTimeout/)
    expect(() => resolveOptions({ endpointUrl: 'not a url' })).toThrow(/endpointUrl/)
    expect(() => resolveOptions({ sqsBase64Encoding: 'yes' })).toThrow(/sqsBase64Encoding/)
    expect(() =>
      resolveOptions({ redrivePolicy: { q: { deadLetterQueue: 'd', maxReceiveCount: 0 } } }),
    ).toThrow(/maxReceiveCount/)
    expect(() => resolveOptions({ predefinedQueues: { 'a.fifo': { url: 'https://sqs/1/a' } } })).toThrow(
      /\.fifo/,
    )
  })

  it('reads options from the URL query, as Connection passes them (snake_case made camelCase)', () => {
    // Connection turns ?wait_time_seconds=5 into { waitTimeSeconds: 5 }.
    expect(resolveOptions({ waitTimeSeconds: 5, queueNamePrefix: 'dev-' })).toMatchObject({
      waitTimeSeconds: 5,
      queueNamePrefix: 'dev-',
    })
  })
})

describe('credentials and endpoint', () => {
  it('takes percent-decoded credentials from the URL', async () => {
    const pool = new ClientPool(
      parseUrl('sqs://AKIA%2BEXAMPLE:se%2Fcr%40et@'),
      resolveOptions({ region: 'eu-west-1' }),
    )
    const credentials = await pool.main.config.credentials()
    expect(credentials).toMatchObject({ accessKeyId: 'AKIA+EXAMPLE', secretAccessKey: 'se/cr@et' })
    expect(await pool.main.config.region()).toBe('eu-west-1')
    pool.destroy()
  })

  it('uses the SDK default chain without URL credentials', async () => {
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY }
    process.env.AWS_ACCESS_KEY_ID = 'FROM_ENV'
    process.env.AWS_SECRET_ACCESS_KEY = 'env-secret'
    try {
      const pool = new ClientPool(parseUrl('sqs://'), resolveOptions({ region: 'us-east-1' }))
      expect(await pool.main.config.credentials()).toMatchObject({ accessKeyId: 'FROM_ENV' })
      pool.destroy()
    } finally {
      process.env.AWS_ACCESS_KEY_ID = saved.id
      process.env.AWS_SECRET_ACCESS_KEY = saved.secret
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY
    }
  })

  it('reaches endpointUrl, else the URL host (Kombu endpoint_url), else AWS', () => {
    expect(endpointOf(parseUrl('sqs://'), resolveOptions({ endpointUrl: 'http://localhost:4566/' }))).toBe(
      'http://localhost:4566',
    )
    expect(endpointOf(parseUrl('sqs://k:s@localhost:9324'), resolveOptions({}))).toBe('http://localhost:9324')
    expect(endpointOf(parseUrl('sqs://k:s@vpce.example'), resolveOptions({ isSecure: true }))).toBe(
      'https://vpce.example',
    )
    expect(endpointOf(parseUrl('sqs://k:s@'), resolveOptions({}))).toBeUndefined()
  })
})

describe('classifyError', () => {
  const sdk = (name: string, fault: 'client' | 'server', extra = {}) =>
    Object.assign(new Error(name), {
      name,
      $fault: fault,
      $metadata: { httpStatusCode: fault === 'server' ? 500 : 400 },
      ...extra,
    })

  it('retries network failures, throttling and server faults', () => {
    expect(classifyError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe('connection')
    expect(
      classifyError(new Error('wrapped', { cause: Object.assign(new Error(), { code: 'ECONNRESET' }) })),
    ).toBe('connection')
    expect(classifyError(sdk('ThrottlingException', 'client'))).toBe('connection')
    expect(classifyError(sdk('InternalError', 'server'))).toBe('connection')
    expect(classifyError(new ConnectionError('lost'))).toBe('connection')
  })

  it('stops on credentials, and reports other refusals as channel errors', () => {
    expect(classifyError(sdk('InvalidClientTokenId', 'client'))).toBe('fatal')
    expect(classifyError(sdk('SignatureDoesNotMatch', 'client'))).toBe('fatal')
    expect(
      classifyError(
        Object.assign(new Error('Could not load credentials'), { name: 'CredentialsProviderError' }),
      ),
    ).toBe('fatal')
    expect(classifyError(sdk('QueueDoesNotExist', 'client'))).toBe('channel')
    expect(classifyError(sdk('InvalidParameterValue', 'client'))).toBe('channel')
    expect(classifyError(new ChannelError('x'))).toBe('channel')
    expect(classifyError(new Error('something else'))).toBe('fatal')
  })

  it('knows the receipt-handle failures that only mean "no longer ours"', () => {
    expect(isLostHandle('ReceiptHandleIsInvalid')).toBe(true)
    expect(isLostHandle('MessageNotInflight')).toBe(true)
    expect(
      isLostHandle(
        'InvalidParameterValue',
        'Value x for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.',
      ),
    ).toBe(true)
    expect(isLostHandle('InvalidParameterValue', 'Value for parameter MaxNumberOfMessages is invalid')).toBe(
      false,
    )
    expect(isLostHandle('AccessDenied')).toBe(false)
  })
})
