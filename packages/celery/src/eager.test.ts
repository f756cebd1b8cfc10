import { describe, expect, it } from 'vitest'
import { Celery } from './app.js'
import { TaskError } from './errors.js'

describe('taskAlwaysEager', () => {
  it('runs tasks in the caller and returns a working AsyncResult, with no broker', async () => {
    // The broker URL points nowhere: nothing may be published.
    const app = new Celery('eager', { broker: 'amqp://127.0.0.1:1//', taskAlwaysEager: true, env: {} })
    const add = app.task('t.add', (x: number, y: number) => x + y)
    let calls = 0
    const flaky = app.task('t.flaky', (ctx) => (++calls < 2 ? ctx.retry({ countdown: 60 }) : 'ok'), {
      bind: true,
    })
    const fail = app.task('t.fail', () => {
      throw new RangeError('too far')
    })
    const r = await add.delay(2, 3)
    expect(await r.get()).toBe(5)
    expect(await r.state()).toBe('SUCCESS')
    expect(await (await flaky.delay()).get()).toBe('ok')
    const f = await fail.delay()
    expect(await f.state()).toBe('FAILURE')
    await expect(f.get()).rejects.toBeInstanceOf(TaskError)
    await app.close()
  })

  it('taskEagerPropagates throws the task error at the call', async () => {
    const app = new Celery('eager', {
      broker: 'memory://eager',
      taskAlwaysEager: true,
      taskEagerPropagates: true,
      env: {},
    })
    const fail = app.task('t.fail', () => {
      throw new RangeError('too far')
    })
    await expect(fail.delay()).rejects.toThrow('too far')
    await app.close()
  })
})
