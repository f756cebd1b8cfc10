/**
 * The worker's startup banner, shaped like Celery's so that people who run both recognise it:
 * node name, transport, results, concurrency, queues and registered tasks.
 */
import { arch, platform, release } from 'node:os'
import { maskUrl } from '@q/kombu'
import type { Worker } from '../worker/worker.js'

/** The banner text for a started worker. */
export function banner(worker: Worker, version: string): string {
  const { app } = worker
  const conf = app.conf
  const now = new Date().toISOString().replace('T', ' ').slice(0, 19)
  const lines = [
    ` -------------- ${worker.hostname} v${version} (q, Node ${process.version})`,
    `--- ***** ----- `,
    `-- ******* ---- ${platform()}-${release()}-${arch()} ${now}`,
    `- *** --- * --- `,
    `- ** ---------- [config]`,
    `- ** ---------- .> app:         ${app.main}`,
    `- ** ---------- .> transport:   ${conf.brokerUrl.split(';').map(maskUrl).join(';')}`,
    `- ** ---------- .> results:     ${conf.resultBackend ? maskUrl(conf.resultBackend) : 'disabled://'}`,
    `- *** --- * --- .> concurrency: ${worker.concurrency} (async, prefetch ${worker.prefetchCount || 'unlimited'})`,
    `-- ******* ---- .> task events: ${conf.workerSendTaskEvents ? 'ON' : 'OFF (enable -E to monitor tasks in this worker)'}`,
    `--- ***** ----- `,
    ` -------------- [queues]`,
    ...worker.queues.map(
      (q) =>
        `                .> ${q.name.padEnd(16)} exchange=${q.exchange.name || "''"}(${q.exchange.type}) key=${q.routingKey || q.name}`,
    ),
    '',
    '[tasks]',
    ...[...app.tasks.keys()].sort().map((name) => `  . ${name}`),
    '',
  ]
  return lines.join('\n')
}
