/**
 * Which transport serves which URL scheme. Each alias names the package that implements it; the
 * package is loaded on first use with `import()`, so @q/kombu itself depends on no broker driver.
 */
import { TransportNotInstalledError, UnknownTransportError } from './errors.js'
import { importOptional, isModuleNotFound } from './import-optional.js'
import { createMemoryTransport, type MemoryTransport } from './transports/memory.js'
import type { TransportDriver } from './types.js'
import { didYouMean } from './util.js'

/** Where a scheme's transport comes from. */
export interface TransportAlias {
  /** Canonical transport name. */
  readonly transport: 'memory' | 'amqp' | 'redis' | 'sqs'
  /** The package exporting the driver (absent for built-ins). */
  readonly packageName?: string
  /** The driver library that package needs beside it, for the install hint. */
  readonly driverPackage?: string
}

/** URL scheme -> transport, as Kombu's TRANSPORT_ALIASES. */
export const TRANSPORT_ALIASES: Readonly<Record<string, TransportAlias>> = Object.freeze({
  memory: { transport: 'memory' },
  amqp: { transport: 'amqp', packageName: '@q/kombu-amqp', driverPackage: 'amqplib' },
  amqps: { transport: 'amqp', packageName: '@q/kombu-amqp', driverPackage: 'amqplib' },
  pyamqp: { transport: 'amqp', packageName: '@q/kombu-amqp', driverPackage: 'amqplib' },
  redis: { transport: 'redis', packageName: '@q/kombu-redis', driverPackage: 'ioredis' },
  rediss: { transport: 'redis', packageName: '@q/kombu-redis', driverPackage: 'ioredis' },
  sentinel: { transport: 'redis', packageName: '@q/kombu-redis', driverPackage: 'ioredis' },
  sqs: { transport: 'sqs', packageName: '@q/kombu-sqs', driverPackage: '@aws-sdk/client-sqs' },
})

let defaultMemory: MemoryTransport | undefined

/**
 * The memory transport behind plain `memory://` URLs. Its brokers are keyed by URL host so that
 * two Connections to `memory://x` meet; use `createMemoryTransport()` for full isolation.
 */
export function defaultMemoryTransport(): MemoryTransport {
  defaultMemory ??= createMemoryTransport()
  return defaultMemory
}

/** The alias of a scheme, or UnknownTransportError with a suggestion. */
export function transportAlias(scheme: string): TransportAlias {
  const alias = TRANSPORT_ALIASES[scheme.toLowerCase()]
  if (alias) return alias
  const guess = didYouMean(scheme, Object.keys(TRANSPORT_ALIASES))
  throw new UnknownTransportError(
    `Unknown transport '${scheme}://'${guess ? `: did you mean '${guess}://'?` : ''} Known schemes: ${Object.keys(TRANSPORT_ALIASES).join(', ')}`,
  )
}

function isDriver(x: unknown): x is TransportDriver {
  const d = x as Partial<TransportDriver> | undefined
  return typeof d?.connect === 'function' && typeof d.name === 'string' && typeof d.capabilities === 'object'
}

/** Loads the driver for a scheme: built in, or from its package. */
export async function loadTransport(scheme: string): Promise<TransportDriver> {
  const alias = transportAlias(scheme)
  if (!alias.packageName) return defaultMemoryTransport()
  const { packageName, driverPackage } = alias
  let mod: { transport?: unknown; default?: unknown }
  try {
    mod = await importOptional<typeof mod>(packageName)
  } catch (err) {
    if (isModuleNotFound(err, packageName)) {
      throw new TransportNotInstalledError(
        `The '${scheme}://' transport needs the package ${packageName}: npm install ${packageName} ${driverPackage ?? ''}`.trim(),
        packageName,
        { cause: err },
      )
    }
    throw err
  }
  const driver = mod.transport ?? mod.default
  if (!isDriver(driver)) {
    throw new TransportNotInstalledError(
      `${packageName} does not export a transport driver named 'transport'`,
      packageName,
    )
  }
  return driver
}
