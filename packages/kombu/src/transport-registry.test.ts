import { describe, expect, it } from 'vitest'
import { Connection } from './connection.js'
import { ConfigurationError, TransportNotInstalledError, UnknownTransportError } from './errors.js'
import {
  defaultMemoryTransport,
  loadTransport,
  TRANSPORT_ALIASES,
  transportAlias,
} from './transport-registry.js'
import { createMemoryTransport } from './transports/memory.js'
import type { Logger } from './types.js'

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} }

/** Whether a transport package resolves here, the way loadTransport imports it. */
async function installed(packageName: string): Promise<boolean> {
  try {
    await import(/* @vite-ignore */ packageName)
    return true
  } catch {
    return false
  }
}

const optional = {
  amqp: { packageName: '@q/kombu-amqp', driverPackage: 'amqplib', present: await installed('@q/kombu-amqp') },
  redis: {
    packageName: '@q/kombu-redis',
    driverPackage: 'ioredis',
    present: await installed('@q/kombu-redis'),
  },
  sqs: {
    packageName: '@q/kombu-sqs',
    driverPackage: '@aws-sdk/client-sqs',
    present: await installed('@q/kombu-sqs'),
  },
}

function thrown(fn: () => unknown): Error {
  try {
    fn()
  } catch (err) {
    return err as Error
  }
  throw new Error('expected a throw')
}

describe('TRANSPORT_ALIASES', () => {
  it("maps Kombu's schemes to transports and packages", () => {
    expect(TRANSPORT_ALIASES).toEqual({
      memory: { transport: 'memory' },
      amqp: { transport: 'amqp', packageName: '@q/kombu-amqp', driverPackage: 'amqplib' },
      amqps: { transport: 'amqp', packageName: '@q/kombu-amqp', driverPackage: 'amqplib' },
      pyamqp: { transport: 'amqp', packageName: '@q/kombu-amqp', driverPackage: 'amqplib' },
      redis: { transport: 'redis', packageName: '@q/kombu-redis', driverPackage: 'ioredis' },
      rediss: { transport: 'redis', packageName: '@q/kombu-redis', driverPackage: 'ioredis' },
      sentinel: { transport: 'redis', packageName: '@q/kombu-redis', driverPackage: 'ioredis' },
      sqs: { transport: 'sqs', packageName: '@q/kombu-sqs', driverPackage: '@aws-sdk/client-sqs' },
    })
    expect(Object.isFrozen(TRANSPORT_ALIASES)).toBe(true)
  })
})

describe('transportAlias', () => {
  it('finds a scheme, whatever its case', () => {
    expect(transportAlias('pyamqp').transport).toBe('amqp')
    expect(transportAlias('AMQPS').transport).toBe('amqp')
    expect(transportAlias('memory').packageName).toBeUndefined()
  })

  it("rejects a misspelt scheme with 'did you mean'", () => {
    const err = thrown(() => transportAlias('reddis'))
    expect(err).toBeInstanceOf(UnknownTransportError)
    expect(err).toBeInstanceOf(ConfigurationError)
    expect(err.message).toContain("Unknown transport 'reddis://'")
    expect(err.message).toContain("did you mean 'redis://'")
    expect(err.message).toContain('Known schemes: memory, amqp')
    expect(thrown(() => transportAlias('amqq')).message).toContain("did you mean 'amqp://'")
  })

  it('makes no guess for a scheme far from every known one', () => {
    const err = thrown(() => transportAlias('kafkaesque'))
    expect(err).toBeInstanceOf(UnknownTransportError)
    expect(err.message).not.toContain('did you mean')
  })

  it('is checked when a Connection is constructed', () => {
    const err = thrown(() => new Connection('reddis://localhost:6379/0'))
    expect(err).toBeInstanceOf(UnknownTransportError)
    expect(err.message).toContain("did you mean 'redis://'")
    // every alternate is checked, not only the first
    expect(() => new Connection('memory://a;reddis://b')).toThrow(UnknownTransportError)
  })

  it('is not checked when a transport is given', () => {
    const transport = createMemoryTransport()
    expect(() => new Connection('anything://x', { transport, logger: silent })).not.toThrow()
  })
})

describe('loadTransport', () => {
  it('serves memory:// from the built-in default memory transport', async () => {
    const driver = await loadTransport('memory')
    expect(driver).toBe(defaultMemoryTransport())
    expect(driver.name).toBe('memory')
    expect(await loadTransport('MEMORY')).toBe(driver)
  })

  it('rejects an unknown scheme', async () => {
    await expect(loadTransport('reddis')).rejects.toBeInstanceOf(UnknownTransportError)
  })

  for (const [scheme, info] of Object.entries(optional)) {
    it.skipIf(info.present)(
      `${scheme}:// without ${info.packageName} installed: TransportNotInstalledError naming what to install`,
      async () => {
        const err = await loadTransport(scheme).then(
          () => expect.unreachable('loadTransport resolved'),
          (e: unknown) => e as TransportNotInstalledError,
        )
        expect(err).toBeInstanceOf(TransportNotInstalledError)
        expect(err).toBeInstanceOf(ConfigurationError)
        expect(err.code).toBe('ERR_TRANSPORT_NOT_INSTALLED')
        expect(err.packageName).toBe(info.packageName)
        expect(err.message).toContain(info.packageName)
        expect(err.message).toContain(info.driverPackage)
        expect(err.message).toContain(`${scheme}://`)
        expect(err.cause).toBeDefined()
      },
    )

    it.runIf(info.present)(`${scheme}:// with ${info.packageName} installed: loads its driver`, async () => {
      const driver = await loadTransport(scheme)
      expect(driver.name).toBe(scheme)
      expect(typeof driver.connect).toBe('function')
    })
  }

  it.skipIf(optional.amqp.present)(
    "Connection('amqp://localhost').connect() rejects with TransportNotInstalledError",
    async () => {
      const conn = new Connection('amqp://localhost', { logger: silent })
      try {
        const err = await conn.connect().then(
          () => expect.unreachable('connect() resolved'),
          (e: unknown) => e as TransportNotInstalledError,
        )
        expect(err).toBeInstanceOf(TransportNotInstalledError)
        expect(err.packageName).toBe('@q/kombu-amqp')
        expect(err.message).toContain('npm install @q/kombu-amqp amqplib')
        expect(conn.connected).toBe(false)
      } finally {
        await conn.close()
      }
    },
  )
})
