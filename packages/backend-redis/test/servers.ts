/**
 * Redis servers of a test's own, on free ports in a temporary directory: plain with a password
 * and an ACL user, TLS with a self-signed certificate, and a Sentinel watching one of them.
 * Disposing of a server stops its process and removes its directory.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A port nobody listens on now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** A redis-server (or sentinel) process. */
export class RedisProcess implements AsyncDisposable {
  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly child: ChildProcess,
  ) {}

  /** Starts `redis-server <args>`; resolves once the log says `ready`. */
  static start(port: number, dir: string, args: string[], ready: string): Promise<RedisProcess> {
    const child = spawn('redis-server', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
    return new Promise((resolve, reject) => {
      let out = ''
      const timer = setTimeout(() => {
        child.kill('SIGKILL')
        reject(new Error(`redis-server did not start within 10 s: ${out.slice(-500)}`))
      }, 10_000)
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString()
        if (out.includes(ready)) {
          clearTimeout(timer)
          resolve(new RedisProcess(port, dir, child))
        }
      })
      child.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`redis-server exited with ${code}: ${out.slice(-500)}`))
      })
    })
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.child.exitCode === null) {
      await new Promise<void>((resolve) => {
        this.child.once('exit', () => resolve())
        this.child.kill('SIGTERM')
      })
    }
    rmSync(this.dir, { recursive: true, force: true })
  }
}

const common = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no']

/** A server with `requirepass` and an ACL user `app` (password `app-pw`). */
export async function startRedis(password: string): Promise<RedisProcess> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'q-backend-redis-'))
  const args = ['--port', String(port), '--requirepass', password, ...common]
  const server = await RedisProcess.start(port, dir, args, 'Ready to accept connections')
  execFileSync('redis-cli', [
    '-p',
    String(port),
    '-a',
    password,
    '--no-auth-warning',
    'ACL',
    'SETUSER',
    'app',
    'on',
    '>app-pw',
    '~*',
    '&*',
    '+@all',
  ])
  return server
}

/** A TLS-only server with a self-signed certificate for localhost; `ca` is that certificate's path. */
export async function startTlsRedis(): Promise<RedisProcess & { ca: string }> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'q-backend-redis-tls-'))
  const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')]
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  )
  const args = [
    '--port',
    '0',
    '--tls-port',
    String(port),
    '--tls-cert-file',
    cert,
    '--tls-key-file',
    key,
    '--tls-ca-cert-file',
    cert,
    '--tls-auth-clients',
    'no',
    ...common,
  ]
  const server = await RedisProcess.start(port, dir, args, 'Ready to accept connections')
  return Object.assign(server, { ca: cert })
}

/** A Sentinel watching `master` as `mymaster`, with its password. */
export async function startSentinel(master: RedisProcess, password: string): Promise<RedisProcess> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'q-backend-sentinel-'))
  const conf = join(dir, 'sentinel.conf')
  writeFileSync(
    conf,
    `port ${port}\nbind 127.0.0.1\nsentinel monitor mymaster 127.0.0.1 ${master.port} 1\nsentinel auth-pass mymaster ${password}\n`,
  )
  return RedisProcess.start(port, dir, [conf, '--sentinel'], '+monitor master mymaster')
}
