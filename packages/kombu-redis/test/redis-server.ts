/**
 * A Redis server of a test's own: `redis-server` on a free port with append-only persistence
 * (fsync on every write) in a temporary directory, that the test can kill and start again on
 * the same port and data.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
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

/** A redis-server process the test controls. */
export class RedisServer implements AsyncDisposable {
  private child: ChildProcess | undefined
  readonly dir = mkdtempSync(join(tmpdir(), 'q-redis-'))

  private constructor(
    readonly port: number,
    private readonly extra: readonly string[],
  ) {}

  /**
   * Starts a server on a free port. `extra` arguments are passed on; `{port}` in them is the
   * port (for a TLS-only server: `['--port', '0', '--tls-port', '{port}', ...]`).
   */
  static async start(extra: readonly string[] = []): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), extra)
    await server.start()
    return server
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}/0`
  }

  /** Starts (again) on the same port and directory; resolves once it accepts connections. */
  start(): Promise<void> {
    const extra = this.extra.map((a) => a.replace('{port}', String(this.port)))
    // Our port only where `extra` names none (a TLS-only server passes `--port 0`).
    const port = extra.includes('--port') ? [] : ['--port', String(this.port)]
    const args = [
      ...port,
      '--bind',
      '127.0.0.1',
      '--dir',
      this.dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
    ]
    const child = spawn('redis-server', [...args, '--save', '', '--daemonize', 'no', ...extra], {
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    this.child = child
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('redis-server did not start within 10 s')), 10_000)
      let out = ''
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString()
        if (out.includes('Ready to accept connections')) {
          clearTimeout(timer)
          resolve()
        }
      })
      child.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`redis-server exited with ${code}: ${out.slice(-500)}`))
      })
    })
  }

  /** Kills the server (SIGKILL by default) and waits for it to be gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child
    this.child = undefined
    if (!child || child.exitCode !== null) return
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve())
      child.kill(signal)
    })
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.kill('SIGTERM')
    rmSync(this.dir, { recursive: true, force: true })
  }
}
