/**
 * Module resolution hook for the bench processes. @q/kombu and @q/celery load transports and
 * backends by name at run time (`import('@q/kombu-redis')`); from inside packages/kombu that name
 * does not resolve under pnpm, and the library's fallback then imports the package's built `dist`
 * entry. The bench measures the sources, so a failed `@q/*` resolution is retried from the bench
 * package (which depends on every transport), keeping the `@q/source` condition.
 */
import type { ResolveHook } from 'node:module'

const BENCH = new URL('../package.json', import.meta.url).href

export const resolve: ResolveHook = async (specifier, context, nextResolve) => {
  try {
    return await nextResolve(specifier, context)
  } catch (err) {
    if (!specifier.startsWith('@q/') || context.parentURL === BENCH) throw err
    return nextResolve(specifier, { ...context, parentURL: BENCH })
  }
}
