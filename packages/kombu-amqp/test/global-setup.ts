/**
 * One vhost per integration run (`rabbitmqctl add_vhost q-test-<random>`), deleted afterwards,
 * so runs never see each other's queues. Without rabbitmqctl, the tests use the default vhost
 * and rely on their unique queue names.
 */
import { randomBytes } from 'node:crypto'
import type { TestProject } from 'vitest/node'
import { hasRabbitmqctl, rabbitmqctl } from './broker.js'

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const base = (process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672').replace(/\/+$/, '')
  const user = decodeURIComponent(/^[a-z]+:\/\/([^:@/]+)/i.exec(base)?.[1] ?? 'guest')
  if (!hasRabbitmqctl()) {
    project.provide('amqpUrl', `${base}//`)
    project.provide('amqpVhost', '/')
    return async () => {}
  }
  const vhost = `q-test-${randomBytes(4).toString('hex')}`
  await rabbitmqctl('add_vhost', vhost)
  await rabbitmqctl('set_permissions', '-p', vhost, user, '.*', '.*', '.*')
  project.provide('amqpUrl', `${base}/${vhost}`)
  project.provide('amqpVhost', vhost)
  return async () => {
    await rabbitmqctl('delete_vhost', vhost).catch(() => {})
  }
}
