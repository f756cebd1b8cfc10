/**
 * amqps:// with TLS options (ca, servername). The machine's RabbitMQ listens in plain TCP only, so
 * a TLS-terminating proxy in front of it stands in for a TLS listener, with a throwaway
 * self-signed certificate for `localhost` made by openssl.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { connect as netConnect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer, type Server } from 'node:tls'
import { Connection, ConnectionError, Consumer, Producer, Queue } from '@q/kombu'
import { Inbox } from '@q/kombu-testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { amqpUrl } from '../test/broker.js'
import { transport } from './index.js'

const hasOpenssl = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0

describe.skipIf(!hasOpenssl)(
  `TLS (amqps)${hasOpenssl ? '' : ' [skipped: no openssl to make a certificate]'}`,
  () => {
    let dir: string
    let cert: Buffer
    let server: Server
    let port: number
    const target = new URL(amqpUrl().replace(/^amqp:/, 'http:'))
    const vhost = target.pathname.slice(1) || '/'
    const urlFor = (host: string) => `amqps://guest:guest@${host}:${port}/${vhost === '/' ? '/' : vhost}`
    const quiet = { debug() {}, info() {}, warn() {}, error() {} }

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'q-amqps-'))
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '2',
          '-subj',
          '/CN=localhost',
          '-addext',
          'subjectAltName=DNS:localhost',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      )
      cert = readFileSync(join(dir, 'cert.pem'))
      server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (tlsSocket) => {
        const upstream = netConnect(Number(target.port || 5672), target.hostname)
        tlsSocket.pipe(upstream).pipe(tlsSocket)
        tlsSocket.on('error', () => upstream.destroy())
        upstream.on('error', () => tlsSocket.destroy())
      })
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      port = (server.address() as { port: number }).port
    })
    afterAll(async () => {
      await new Promise((r) => server?.close(r))
      rmSync(dir, { recursive: true, force: true })
    })

    it('connects with the CA given in ssl options, and messages flow', async () => {
      await using conn = await new Connection(urlFor('localhost'), { transport, ssl: { ca: cert } }).connect()
      const queue = new Queue('', { exclusive: true })
      const declared = await (await conn.channel()).declareQueue(queue)
      const inbox = new Inbox<string>({ ack: true })
      await new Consumer(conn, {
        queues: new Queue(declared.queue, { exclusive: true }),
        autoDeclare: false,
        onMessage: inbox.onMessage,
      }).consume()
      await new Producer(conn).publish('over TLS', { routingKey: declared.queue, confirm: true })
      expect((await inbox.collect(1)).map((m) => m.body)).toEqual(['over TLS'])
    })

    it('checks the certificate against servername when connecting by address', async () => {
      await using conn = await new Connection(urlFor('127.0.0.1'), {
        transport,
        ssl: { ca: cert, servername: 'localhost' },
      }).connect()
      expect(conn.state).toBe('connected')
    })

    it('refuses a certificate it cannot verify, at once and not as a connection error to retry', async () => {
      const conn = new Connection(urlFor('localhost'), {
        transport,
        retryPolicy: { maxRetries: 3, intervalStep: 500 },
        logger: quiet,
      })
      const started = Date.now()
      const err = await conn.connect().catch((e: unknown) => e)
      expect(err).toBeInstanceOf(Error)
      expect(err).not.toBeInstanceOf(ConnectionError)
      expect((err as Error).message).toMatch(/self[- ]signed/)
      expect(Date.now() - started).toBeLessThan(1000)
      await conn.close()
    })
  },
)
