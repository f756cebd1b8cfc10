/**
 * rediss:// with an ACL user: a TLS-only Redis of the test's own (a self-signed certificate made
 * with openssl) that knows only the user `app`. Wrong credentials are fatal, not retried.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Connection, Consumer, Producer, Queue } from '@q/kombu'
import { Inbox } from '@q/kombu-testing'
import { expect, it } from 'vitest'
import { RedisServer } from '../test/redis-server.js'

it('talks TLS with an ACL user and password; wrong credentials fail at once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'q-tls-'))
  const [cert, key] = [join(dir, 'cert.pem'), join(dir, 'key.pem')]
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1'],
      ...['-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    ],
    { stdio: 'ignore' },
  )
  await using server = await RedisServer.start([
    ...['--port', '0', '--tls-port', '{port}', '--tls-auth-clients', 'no'],
    ...['--tls-cert-file', cert, '--tls-key-file', key, '--tls-ca-cert-file', cert],
    ...['--user', 'default', 'off', '--user', 'app', 'on', '>s3cret', '~*', '&*', '+@all'],
  ])
  const ssl = { ca: readFileSync(cert) }
  await using conn = new Connection(`rediss://app:s3cret@127.0.0.1:${server.port}/0`, { ssl })
  const queue = new Queue('over-tls')
  const inbox = new Inbox<string>({ ack: true })
  await new Consumer(conn, { queues: queue, onMessage: inbox.onMessage }).consume()
  await new Producer(conn).publish('secret', { routingKey: queue.name })
  expect((await inbox.collect(1, 5000))[0]!.body).toBe('secret')

  const wrong = new Connection(`rediss://app:nope@127.0.0.1:${server.port}/0`, {
    ssl,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
  })
  const started = Date.now()
  await expect(wrong.connect()).rejects.toThrow(/WRONGPASS|invalid username-password/)
  expect(Date.now() - started).toBeLessThan(3000)
  await wrong.close()
  rmSync(dir, { recursive: true, force: true })
}, 30_000)
