/**
 * The quickstart's app and tasks. In a real project this module is what `q worker -A` loads.
 */
import { Celery } from '@q/celery'

/** Builds the app on a broker URL (memory:// by default: no broker to install). */
export function createApp(broker = 'memory://quickstart', backend = 'memory://quickstart') {
  const app = new Celery('quickstart', { broker, backend })

  const add = app.task('tasks.add', (x: number, y: number) => x + y)

  // A task that fails twice, as a flaky network call would, and retries itself.
  const fetchPage = app.task(
    'tasks.fetch_page',
    (ctx, url: string) => {
      if (ctx.request.retries < 2) ctx.retry({ countdown: 0.2, exc: new Error('connection reset by peer') })
      return `<html>${url}: fetched after ${ctx.request.retries} retries</html>`
    },
    { bind: true, maxRetries: 5 },
  )

  // A long task that reports its progress as a custom state.
  const resize = app.task(
    'tasks.resize_images',
    async (ctx, count: number) => {
      for (let done = 1; done <= count; done++) {
        await new Promise((r) => setTimeout(r, 40))
        await ctx.updateState('PROGRESS', { done, total: count })
      }
      return { resized: count }
    },
    { bind: true },
  )

  return { app, add, fetchPage, resize }
}

export default createApp().app
