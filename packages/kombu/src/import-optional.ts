/**
 * Importing a package that is installed beside @q/kombu rather than under it. With pnpm (and any
 * strict layout) a transport package the application installed is not visible from @q/kombu's
 * own folder, so a failed `import()` is retried from the application's directory: the
 * package.json is found from `process.cwd()` and its ESM entry imported, so every package still
 * shares one copy of @q/kombu.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'

type ExportEntry = string | { [condition: string]: ExportEntry }

/** The error of a module that is not installed (for `packageName`). */
export function isModuleNotFound(err: unknown, packageName: string): boolean {
  const e = err as { code?: string; message?: string } | undefined
  const notFound =
    e?.code === 'ERR_MODULE_NOT_FOUND' ||
    e?.code === 'MODULE_NOT_FOUND' ||
    /Cannot find (module|package)|Failed to (load|resolve)/.test(e?.message ?? '')
  return notFound && (e?.message ?? '').includes(packageName)
}

function esmEntry(entry: ExportEntry | undefined): string | undefined {
  if (typeof entry === 'string') return entry
  if (!entry) return undefined
  for (const key of ['import', 'default', 'node']) {
    const found = esmEntry(entry[key])
    if (found) return found
  }
  return undefined
}

/** `import(packageName)`, falling back to the application's own node_modules. */
export async function importOptional<T>(packageName: string): Promise<T> {
  try {
    return (await import(packageName)) as T
  } catch (err) {
    if (!isModuleNotFound(err, packageName)) throw err
    let pkgJson: string
    try {
      pkgJson = createRequire(join(process.cwd(), 'package.json')).resolve(`${packageName}/package.json`)
    } catch {
      throw err
    }
    const pkg = JSON.parse(readFileSync(pkgJson, 'utf8')) as {
      exports?: Record<string, ExportEntry>
      module?: string
      main?: string
    }
    const entry = esmEntry(pkg.exports?.['.']) ?? pkg.module ?? pkg.main ?? 'index.js'
    return (await import(pathToFileURL(join(dirname(pkgJson), entry)).href)) as T
  }
}
