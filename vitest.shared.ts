/**
 * Shared vitest settings: workspace packages resolve to their TypeScript sources,
 * so tests never need a build. Each entry of a package's `exports` map that has an
 * `@q/source` condition becomes an alias.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('.', import.meta.url))

type ExportEntry = string | { [condition: string]: ExportEntry }

function sourceAliases(): { find: RegExp; replacement: string }[] {
  const aliases: { find: RegExp; replacement: string }[] = []
  const dir = join(root, 'packages')
  for (const name of readdirSync(dir)) {
    const pkgFile = join(dir, name, 'package.json')
    if (!existsSync(pkgFile)) continue
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as {
      name: string
      exports?: Record<string, ExportEntry>
    }
    for (const [sub, entry] of Object.entries(pkg.exports ?? {})) {
      if (typeof entry !== 'object' || typeof entry['@q/source'] !== 'string') continue
      const spec = sub === '.' ? pkg.name : `${pkg.name}/${sub.slice(2)}`
      const escaped = spec.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
      aliases.push({ find: new RegExp(`^${escaped}$`), replacement: resolve(dir, name, entry['@q/source']) })
    }
  }
  return aliases
}

/** Vitest `resolve` block for any package of this workspace. */
export const sharedResolve = { alias: sourceAliases() }
