import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { Celery } from '../app.js'
import { TaskRevokedError } from '../errors.js'

describe('revocations kept in the result backend', () => {
  it('a worker started after the revoke still discards the task', async () => {
    const name = `revoke-persist-${randomUUID()}`
    const app = new Celery('r', { broker: `memory://${name}`, backend: `memory://${name}`, env: {} })
    let ran = 0
    app.task('t.work', () => ++ran)
    const id = randomUUID()
    // No worker is running: only the backend can remember this revoke.
    await app.revoke(id)
    const r = await app.sendTask('t.work', [], {}, { taskId: id })
    const worker = await (await app.worker({ logLevel: 'error' })).start()
    try {
      await expect(r.get({ timeout: 5000 })).rejects.toBeInstanceOf(TaskRevokedError)
      expect(await r.state()).toBe('REVOKED')
      expect(ran).toBe(0)
      // Other tasks still run.
      expect(await (await app.sendTask('t.work')).get({ timeout: 5000 })).toBe(1)
    } finally {
      await worker.stop()
      await app.close()
    }
  })
})
