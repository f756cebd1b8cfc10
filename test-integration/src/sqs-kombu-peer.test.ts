/**
 * SQS interop with the real Python Kombu 5.2 / Celery 5.2 (Debian's python3-celery). No AWS and no
 * boto3: as in the protocol capture (shared/protocol/capture/capture_sqs.py), boto3 is replaced by
 * stand-ins and Kombu's SQS client by an in-memory fake, while Kombu's SQS transport itself (its
 * envelope, base64 layer, names and decoding) runs for real. Our side runs on fauxqs.
 *
 * - TS -> Python: our transport publishes to fauxqs; the raw MessageBody is handed to Kombu, whose
 *   `basic_get` decodes it.
 * - Python -> TS: Celery's `send_task` publishes through Kombu; its SendMessage parameters are sent
 *   to fauxqs as they are, and our consumer decodes them.
 */
import { spawnSync } from 'node:child_process'
import { type Connection, Consumer, type Message, Producer, Queue } from '@q/kombu'
import { afterAll, describe, expect, it } from 'vitest'
// The SQS package's own fixture (fauxqs on a free port); a relative import, as this package does
// not depend on @q/kombu-sqs or fauxqs.
import { startEmulator } from '../../packages/kombu-sqs/src/test-support/fauxqs.js'
import { PYTHON, requirePeer } from './peers.js'

const PEER = `
import json, sys, types, uuid

def install_boto_stubs():
    botocore = types.ModuleType('botocore'); client = types.ModuleType('botocore.client')
    exceptions = types.ModuleType('botocore.exceptions'); awsrequest = types.ModuleType('botocore.awsrequest')
    response = types.ModuleType('botocore.response')
    class Config(dict):
        def __init__(self, **kw): super().__init__(**kw)
    class ClientError(Exception): pass
    class BotoCoreError(Exception): pass
    client.Config = Config; exceptions.ClientError = ClientError; exceptions.BotoCoreError = BotoCoreError
    awsrequest.AWSRequest = object; response.get_response = lambda *a, **kw: None
    botocore.client, botocore.exceptions = client, exceptions
    botocore.awsrequest, botocore.response = awsrequest, response
    boto3 = types.ModuleType('boto3')
    class Session:
        region_name = 'us-east-1'
        def __init__(self, *a, **kw): pass
    boto3.Session = Session; boto3.session = types.SimpleNamespace(Session=Session)
    sys.modules.update({'botocore': botocore, 'botocore.client': client, 'botocore.exceptions': exceptions,
                        'botocore.awsrequest': awsrequest, 'botocore.response': response, 'boto3': boto3})

class FakeSQS:
    def __init__(self, preload):
        self.sent, self.queues, self.preload = [], {}, preload
    def _url(self, name): return 'https://sqs.us-east-1.amazonaws.com/123456789012/' + name
    def list_queues(self, **kw):
        prefix = kw.get('QueueNamePrefix', '')
        return {'QueueUrls': [u for u in self.queues if u.rsplit('/', 1)[1].startswith(prefix)]}
    def create_queue(self, **kw):
        url = self._url(kw['QueueName'])
        self.queues.setdefault(url, [{'Body': b} for b in self.preload.get(kw['QueueName'], [])])
        return {'QueueUrl': url}
    def get_queue_url(self, **kw): return {'QueueUrl': self._url(kw['QueueName'])}
    def send_message(self, **kw):
        self.sent.append(kw)
        return {'MessageId': str(uuid.uuid4())}
    def receive_message(self, **kw):
        q, out = self.queues.get(kw['QueueUrl'], []), []
        while q and len(out) < kw.get('MaxNumberOfMessages', 1):
            out.append({'MessageId': str(uuid.uuid4()), 'ReceiptHandle': 'rh-' + uuid.uuid4().hex,
                        'Body': q.pop(0)['Body'], 'Attributes': {'ApproximateReceiveCount': '1'}})
        return {'Messages': out} if out else {}
    def get_queue_attributes(self, **kw):
        return {'Attributes': {'ApproximateNumberOfMessages': str(len(self.queues.get(kw['QueueUrl'], [])))}}
    def delete_message(self, **kw): return {}
    def change_message_visibility(self, **kw): return {}

install_boto_stubs()
from kombu.transport import SQS
req = json.load(sys.stdin)
fake = FakeSQS(req.get('preload', {}))
SQS.Channel.sqs = lambda self, queue=None: fake
SQS.Channel._queue_cache = {}
options = dict(region='us-east-1', **req.get('transport_options', {}))
if req['mode'] == 'consume':
    from kombu import Connection
    out = []
    with Connection('sqs://AKIAEXAMPLE:secret@', transport_options=options) as conn:
        ch = conn.default_channel
        for queue in req['get']:
            msg = ch.basic_get(queue, no_ack=False)
            if msg is not None:
                out.append({'payload': msg.decode(), 'headers': msg.headers, 'content_type': msg.content_type,
                            'properties': {k: v for k, v in msg.properties.items() if k != 'delivery_info'},
                            'delivery_info': {k: msg.delivery_info[k] for k in ('exchange', 'routing_key')},
                            'delivery_tag': msg.delivery_tag})
                msg.ack()
    print(json.dumps(out))
else:
    from celery import Celery
    app = Celery('proj', broker='sqs://AKIAEXAMPLE:secret@', backend='cache+memory://')
    app.conf.broker_transport_options = options
    ids = [app.send_task(c['name'], args=c.get('args'), kwargs=c.get('kwargs'), **c.get('options', {})).id
           for c in req['calls']]
    print(json.dumps({'ids': ids, 'sent': fake.sent}))
`

interface KombuMessage {
  payload: unknown
  headers: Record<string, unknown>
  content_type: string
  properties: Record<string, unknown>
  delivery_info: { exchange: string; routing_key: string }
  delivery_tag: string
}

function peer<T>(request: unknown): T {
  const r = spawnSync(PYTHON, ['-c', PEER], {
    input: JSON.stringify(request),
    encoding: 'utf8',
    timeout: 30_000,
  })
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`)
  return JSON.parse(r.stdout) as T
}

/** Consumes `queue` until `n` messages arrived (acking them), then stops. */
async function consume(conn: Connection, queue: Queue, n: number): Promise<Message[]> {
  const got: Message[] = []
  let done!: () => void
  const all = new Promise<void>((r) => (done = r))
  const consumer = await new Consumer(conn, {
    queues: queue,
    onMessage: async (_body, message) => {
      got.push(message)
      await message.ack()
      if (got.length === n) done()
    },
  }).consume()
  await all
  await consumer.close()
  return got
}

const celery = requirePeer('celery')

describe.skipIf(celery.skip)(
  `SQS interop with Python Kombu 5.2 / Celery 5.2${celery.skip ? ` (${celery.reason})` : ''}`,
  async () => {
    const sqs = await startEmulator()
    afterAll(() => sqs.stop())

    it('TS -> Kombu: what our transport publishes, Kombu reads as the message we sent', async () => {
      await using conn = sqs.connection({ queueNamePrefix: 'i1-' })
      const channel = await conn.channel()
      for (const name of ['celery', 'jobs.fifo']) await channel.declareQueue(new Queue(name))
      const producer = new Producer(conn)
      const headers = {
        lang: 'py',
        task: 'proj.add',
        id: 'task-1',
        retries: 0,
        timelimit: [null, null],
        argsrepr: '(2, 3)',
      }
      const body = [[2, 3], { z: 4 }, { callbacks: null, errbacks: null, chain: null, chord: null }]
      await producer.publish(body, {
        exchange: '',
        routingKey: 'celery',
        headers,
        correlationId: 'task-1',
        replyTo: 'r-1',
      })
      await producer.publish(
        { n: 1, text: 'héllo ✓' },
        {
          exchange: '',
          routingKey: 'jobs.fifo',
          properties: { MessageGroupId: 'g-7' },
        },
      )
      const [plain] = await sqs.receive('i1-celery')
      const [fifo] = await sqs.receive('i1-jobs.fifo')
      expect(fifo!.Attributes?.MessageGroupId).toBe('g-7')
      const [a, b] = peer<KombuMessage[]>({
        mode: 'consume',
        // Kombu's own prefix makes the same physical names.
        transport_options: { queue_name_prefix: 'i1-' },
        preload: { 'i1-celery': [plain!.Body], 'i1-jobs.fifo': [fifo!.Body] },
        get: ['celery', 'jobs.fifo'],
      })
      expect(a!.payload).toEqual(body)
      expect(a!.headers).toEqual(headers)
      expect(a!.content_type).toBe('application/json')
      expect(a!.properties).toMatchObject({
        correlation_id: 'task-1',
        reply_to: 'r-1',
        delivery_mode: 2,
        priority: 0,
        body_encoding: 'base64',
      })
      expect(a!.delivery_info).toEqual({ exchange: '', routing_key: 'celery' })
      // Kombu replaces the delivery tag by the SQS receipt handle.
      expect(a!.delivery_tag).toMatch(/^rh-/)
      expect(b!.payload).toEqual({ n: 1, text: 'héllo ✓' })
      expect(b!.properties).toMatchObject({ MessageGroupId: 'g-7' })
    })

    it('Celery -> TS: a task Celery sends through Kombu, our consumer reads', async () => {
      const { ids, sent } = peer<{
        ids: string[]
        sent: Array<{
          QueueUrl: string
          MessageBody: string
          MessageGroupId?: string
          MessageDeduplicationId?: string
        }>
      }>({
        mode: 'publish',
        transport_options: { queue_name_prefix: 'i2-' },
        calls: [
          { name: 'proj.add', args: [2, 3], kwargs: { z: 4 } },
          { name: 'proj.mul', args: [6, 7], options: { queue: 'jobs.fifo', MessageGroupId: 'g-1' } },
        ],
      })
      expect(sent.map((s) => s.QueueUrl.split('/').pop())).toEqual(['i2-celery', 'i2-jobs.fifo'])
      await using conn = sqs.connection({ queueNamePrefix: 'i2-' })
      const channel = await conn.channel()
      for (const name of ['celery', 'jobs.fifo']) await channel.declareQueue(new Queue(name))
      for (const { QueueUrl, ...input } of sent) await sqs.send(QueueUrl.split('/').pop()!, input)
      const [add] = await consume(conn, new Queue('celery'), 1)
      expect(add!.headers).toMatchObject({
        task: 'proj.add',
        id: ids[0],
        lang: 'py',
        retries: 0,
        argsrepr: '[2, 3]',
      })
      expect(add!.body).toEqual([
        [2, 3],
        { z: 4 },
        { callbacks: null, errbacks: null, chain: null, chord: null },
      ])
      expect(add!.properties).toMatchObject({ correlationId: ids[0], deliveryMode: 2, priority: 0 })
      expect(add!.deliveryInfo).toMatchObject({ exchange: '', routingKey: 'celery', redelivered: false })
      const [mul] = await consume(conn, new Queue('jobs.fifo'), 1)
      expect(mul!.headers).toMatchObject({ task: 'proj.mul', id: ids[1] })
      expect(mul!.properties).toMatchObject({ MessageGroupId: 'g-1' })
      // Kombu made the deduplication id (a uuid4) for SendMessage; it is not a message property.
      expect(sent[1]).toMatchObject({
        MessageGroupId: 'g-1',
        MessageDeduplicationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      })
      expect(mul!.deliveryInfo.routingKey).toBe('jobs.fifo')
    })
  },
)
