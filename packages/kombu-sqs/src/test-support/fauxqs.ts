/**
 * Test fixture: fauxqs, an independent SQS emulator, started in this process on a free port and
 * stopped on disposal (`await using sqs = await startEmulator()`). Not part of the package.
 */
import {
  GetQueueUrlCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SendMessageCommandInput,
  SQSClient,
} from '@aws-sdk/client-sqs'
import { Connection, type ConnectionOptions, type Logger } from '@q/kombu'
import { type FauxqsServer, startFauxqs } from 'fauxqs'
import type { SqsTransportOptions } from '../options.js'
import { transport } from '../transport.js'

/** A running emulator. */
export interface Emulator extends AsyncDisposable {
  readonly server: FauxqsServer
  readonly endpoint: string
  readonly region: string
  /** A raw @aws-sdk/client-sqs client on the emulator (destroyed on disposal). */
  client(): SQSClient
  /** Transport options reaching the emulator: short long-polls, a prefix unique to the caller. */
  transportOptions(extra?: SqsTransportOptions): SqsTransportOptions
  /** A new, not yet connected Connection to the emulator through our transport. */
  connection(extra?: SqsTransportOptions, options?: ConnectionOptions): Connection
  /** SendMessage with a raw client to the queue named `physical` (its SQS name). */
  send(physical: string, input: Omit<SendMessageCommandInput, 'QueueUrl'>): Promise<void>
  /** One ReceiveMessage (up to 10, waiting up to `wait` s) with a raw client; nothing is deleted. */
  receive(physical: string, wait?: number): Promise<Message[]>
  stop(): Promise<void>
}

/** A logger that keeps warnings and errors for assertions instead of printing them. */
export function recordingLogger(): Logger & { readonly lines: string[] } {
  const lines: string[] = []
  const keep =
    (level: string) =>
    (message: string, ...args: unknown[]) =>
      void lines.push(`${level} ${message} ${args.map(String).join(' ')}`.trim())
  return { lines, debug: () => {}, info: () => {}, warn: keep('warn'), error: keep('error') }
}

/** Starts fauxqs on a free port. */
export async function startEmulator(): Promise<Emulator> {
  const server = await startFauxqs({ port: 0, logger: false })
  const endpoint = `http://127.0.0.1:${server.port}`
  const region = 'us-east-1'
  const clients: SQSClient[] = []
  let shared: SQSClient | undefined
  const raw = () => {
    shared ??= newClient()
    return shared
  }
  const newClient = () => {
    const c = new SQSClient({
      region,
      endpoint,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    })
    clients.push(c)
    return c
  }
  let stopped: Promise<void> | undefined
  const stop = () => {
    stopped ??= (async () => {
      for (const c of clients) c.destroy()
      await server.stop()
    })()
    return stopped
  }
  const transportOptions = (extra: SqsTransportOptions = {}): SqsTransportOptions => ({
    region,
    endpointUrl: endpoint,
    waitTimeSeconds: 1,
    visibilityTimeout: 30,
    ...extra,
  })
  return {
    server,
    endpoint,
    region,
    client() {
      const c = new SQSClient({
        region,
        endpoint,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      })
      clients.push(c)
      return c
    },
    transportOptions,
    connection: (extra, options) =>
      new Connection('sqs://test:test@', {
        transport,
        ...options,
        transportOptions: { ...transportOptions(extra), ...options?.transportOptions },
      }),
    async send(physical, input) {
      const c = raw()
      const { QueueUrl } = await c.send(new GetQueueUrlCommand({ QueueName: physical }))
      await c.send(new SendMessageCommand({ ...input, QueueUrl }))
    },
    async receive(physical, wait = 1) {
      const c = raw()
      const { QueueUrl } = await c.send(new GetQueueUrlCommand({ QueueName: physical }))
      const out = await c.send(
        new ReceiveMessageCommand({
          QueueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: wait,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      )
      return out.Messages ?? []
    },
    stop,
    [Symbol.asyncDispose]: stop,
  }
}

/** One request a client made: the action (`SendMessage`) and its input. */
export type RecordedCall = [string, Record<string, unknown>]

/** Records every request `client` makes, in order, into the returned array. */
export function recordCalls(client: SQSClient): RecordedCall[] {
  const calls: RecordedCall[] = []
  client.middlewareStack.add(
    (next, context) => async (args) => {
      calls.push([String(context.commandName).replace(/Command$/, ''), args.input as Record<string, unknown>])
      return next(args)
    },
    { step: 'initialize', name: 'q-record-calls' },
  )
  return calls
}
