/**
 * The quickstart as a function, so that its test runs exactly what `pnpm demo` shows.
 */
import { createApp } from './tasks.js'

/** What the run produced. */
export interface Summary {
  sum: number
  page: string
  resized: unknown
  progress: string[]
}

/** Starts a worker, sends three tasks, and waits for their results. */
export async function runQuickstart(log: (line: string) => void, url?: string): Promise<Summary> {
  const { app, add, fetchPage, resize } = createApp(url, url)
  await using _app = app
  const worker = await (await app.worker({ concurrency: 4, logLevel: 'warn' })).start()
  try {
    const sumResult = await add.delay(2, 3)
    log(`sent tasks.add(2, 3) as ${sumResult.id}`)
    const sum = await sumResult.get({ timeout: 10_000 })
    log(`tasks.add -> ${sum}`)

    const pageResult = await fetchPage.delay('https://example.com')
    const page = await pageResult.get({ timeout: 10_000 })
    log(`tasks.fetch_page -> ${page}`)

    const progress: string[] = []
    const resizeResult = await resize.delay(5)
    const resized = await resizeResult.get({
      timeout: 10_000,
      onUpdate: (meta) => {
        const { done, total } = meta.result as { done: number; total: number }
        progress.push(`${done}/${total}`)
        log(`tasks.resize_images: ${meta.status} ${done}/${total}`)
      },
    })
    log(`tasks.resize_images -> ${JSON.stringify(resized)}`)
    return { sum, page, resized, progress }
  } finally {
    await worker.stop()
  }
}
