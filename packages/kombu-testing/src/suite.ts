/**
 * How contract tests are declared: each case names itself, states the capabilities it needs,
 * and is either registered with vitest's `it` (running inside a fresh Kit) or registered as
 * skipped, with the reason in its name so that reports say why.
 */
import { randomBytes } from 'node:crypto'
import type { TransportCapabilities } from '@q/kombu'
import { it } from 'vitest'
import { Kit } from './kit.js'
import type { ContractOptions, SkipEntry } from './options.js'

/** A capability a test needs: `ok` when the transport has it, else `reason` says what is missing. */
export interface Requirement {
  readonly ok: boolean
  readonly reason: string
}

/** Options of one contract test. */
export interface CaseOptions {
  /** Skipped (with the reason of the first unmet one) unless every requirement is met. */
  requires?: Requirement | readonly Requirement[]
  /** Test timeout in ms before scaling; default 10 000. */
  timeout?: number
}

/** What each group of cases registers its tests with. */
export interface Suite {
  /** The transport's capabilities, read once before the tests are declared. */
  readonly caps: TransportCapabilities
  /** Declares one test; `body` runs with a Kit that is disposed when it ends. */
  test(title: string, body: (kit: Kit) => Promise<void>, options?: CaseOptions): void
  /** Skip entries that matched no test so far. */
  unusedSkips(): SkipEntry[]
}

/**
 * Why a test is skipped: its entry in the skip list first, else the first unmet requirement;
 * undefined when it runs.
 */
export function skipReason(
  title: string,
  requires: CaseOptions['requires'],
  skips: readonly SkipEntry[],
): string | undefined {
  const entry = skips.find((s) => s.test === title)
  if (entry) return entry.reason
  return [requires ?? []].flat().find((r) => !r.ok)?.reason
}

/** The name a skipped test is reported under: its title and the reason. */
export function skippedTitle(title: string, reason: string): string {
  return `${title} (skipped: ${reason})`
}

/** Builds the Suite of one `describeTransportContract` call. */
export function createSuite(options: ContractOptions, caps: TransportCapabilities): Suite {
  // One id per run, so names never collide with another run on a shared broker.
  const runId = randomBytes(3).toString('hex')
  const scale = options.timeoutScale ?? 1
  const skips = options.skip ?? []
  const used = new Set<SkipEntry>()
  const titles = new Set<string>()
  let counter = 0
  return {
    caps,
    test(title, body, caseOptions = {}) {
      if (titles.has(title)) throw new Error(`contract test '${title}' is declared twice`)
      titles.add(title)
      const skip = skips.find((s) => s.test === title)
      if (skip) used.add(skip)
      const reason = skipReason(title, caseOptions.requires, skips)
      if (reason !== undefined) {
        it.skip(skippedTitle(title, reason), () => {})
        return
      }
      const prefix = `q-contract-${runId}-${String(++counter).padStart(3, '0')}`
      it(
        title,
        async () => {
          await using kit = new Kit(options, caps, prefix)
          await body(kit)
        },
        Math.round((caseOptions.timeout ?? 10_000) * scale),
      )
    },
    unusedSkips: () => skips.filter((s) => !used.has(s)),
  }
}

/** Requirement: the transport routes exchanges of `type`. */
export function routes(
  caps: TransportCapabilities,
  type: TransportCapabilities['exchangeTypes'][number],
): Requirement {
  return { ok: caps.exchangeTypes.includes(type), reason: `transport does not route ${type} exchanges` }
}
