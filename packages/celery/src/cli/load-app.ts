/**
 * Loading the app module named by `-A`: a file path (with or without extension) or a
 * directory with an index. `.ts` modules load through tsx when it is installed. The module's
 * default export, or its export named `app`, is the app.
 */
import { existsSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Celery } from '../app.js'
import { ConfigurationError } from '../errors.js'

const EXTENSIONS = ['', '.ts', '.mts', '.js', '.mjs', '.cjs', '.cts']

/** The file a `-A` argument names, or undefined. */
export function resolveModule(spec: string, cwd = process.cwd()): string | undefined {
  const base = resolve(cwd, spec)
  for (const ext of EXTENSIONS) {
    const file = base + ext
    if (existsSync(file) && statSync(file).isFile()) return file
  }
  for (const ext of EXTENSIONS.slice(1)) {
    const file = resolve(base, `index${ext}`)
    if (existsSync(file)) return file
  }
  return undefined
}

async function importModule(file: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(file).href
  if (!/\.(c|m)?ts$/.test(file)) return import(url)
  try {
    return await import(url)
  } catch (err) {
    // Node cannot load TypeScript by itself (before 22.6): go through tsx if it is there.
    let api: { tsImport: (spec: string, parent: string) => Promise<Record<string, unknown>> }
    try {
      api = (await import('tsx/esm/api')) as typeof api
    } catch {
      throw new ConfigurationError(`Loading ${file} needs a TypeScript loader: npm install tsx`, {
        cause: err,
      })
    }
    return api.tsImport(url, import.meta.url)
  }
}

function isApp(x: unknown): x is Celery {
  return (
    x instanceof Celery ||
    (typeof x === 'object' && x !== null && 'tasks' in x && 'sendTask' in x && 'conf' in x)
  )
}

/** Imports the module and returns its app. */
export async function loadApp(spec: string, cwd = process.cwd()): Promise<Celery> {
  const file = resolveModule(spec, cwd)
  if (!file)
    throw new ConfigurationError(
      `Cannot find the app module '${spec}' (looked for ${spec}{${EXTENSIONS.slice(1).join(',')}} from ${cwd})`,
    )
  const mod = await importModule(file)
  const candidates = [mod.default, mod.app, (mod.default as Record<string, unknown> | undefined)?.app]
  const app = candidates.find(isApp)
  if (!app) throw new ConfigurationError(`${file} exports no Celery app: export it as default or as 'app'`)
  return app
}
