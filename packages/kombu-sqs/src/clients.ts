/**
 * The SQS clients of one connection: one for the URL's credentials (or the SDK's default
 * credential chain), plus one per distinct credentials/region of `predefinedQueues`.
 */
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs'
import type { BrokerUrl } from '@q/kombu'
import type { PredefinedQueue, ResolvedOptions } from './options.js'

/** Where to send requests: `endpointUrl`, else the URL's host (Kombu's `endpoint_url`), else AWS. */
export function endpointOf(url: BrokerUrl, options: ResolvedOptions): string | undefined {
  if (options.endpointUrl) return options.endpointUrl
  if (!url.hostname) return undefined
  const host = url.hostname.includes(':') ? `[${url.hostname}]` : url.hostname
  return `${options.isSecure ? 'https' : 'http'}://${host}${url.port ? `:${url.port}` : ''}`
}

/** Creates and owns the clients of a connection. */
export class ClientPool {
  private readonly owned = new Map<string, SQSClient>()
  private readonly base: SQSClientConfig

  constructor(
    url: BrokerUrl,
    private readonly options: ResolvedOptions,
  ) {
    const endpoint = endpointOf(url, options)
    // URL user info is percent-decoded already; without it the SDK's default chain applies.
    const credentials =
      url.userid && url.password ? { accessKeyId: url.userid, secretAccessKey: url.password } : undefined
    this.base = {
      ...(options.region ? { region: options.region } : {}),
      ...(endpoint ? { endpoint } : {}),
      ...(credentials ? { credentials } : {}),
    }
  }

  /** The connection's client. */
  get main(): SQSClient {
    return this.options.client ?? this.get('', this.base)
  }

  /** The client for a predefined queue: its own credentials or region, else the main client. */
  forQueue(queue: PredefinedQueue | undefined): SQSClient {
    if (!queue || (!queue.accessKeyId && !queue.region)) return this.main
    const config: SQSClientConfig = { ...this.base }
    if (queue.region) config.region = queue.region
    if (queue.accessKeyId && queue.secretAccessKey)
      config.credentials = { accessKeyId: queue.accessKeyId, secretAccessKey: queue.secretAccessKey }
    return this.get(`${queue.region ?? ''}|${queue.accessKeyId ?? ''}`, config)
  }

  /** Destroys the clients this pool created (a client passed in options is left alone). */
  destroy(): void {
    for (const client of this.owned.values()) client.destroy()
    this.owned.clear()
  }

  private get(key: string, config: SQSClientConfig): SQSClient {
    let client = this.owned.get(key)
    if (!client) {
      client = new SQSClient(config)
      this.owned.set(key, client)
    }
    return client
  }
}
