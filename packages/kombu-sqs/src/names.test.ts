import { describe, expect, it } from 'vitest'
import { entityName, isFifo, physicalName } from './names.js'
import { golden } from './test-support/golden.js'

describe('queue names (Kombu entity_name)', () => {
  it('names every queue of the golden sample as Kombu did', () => {
    let checked = 0
    for (const c of golden.cases) {
      const prefix = String(c.transport_options.queue_name_prefix ?? '')
      for (const sent of c.send_message_decoded) {
        const logical = sent.decoded.envelope.properties.delivery_info.routing_key
        const created = sent.QueueUrl.split('/').pop()
        expect(physicalName(prefix, logical), `${c.label}: ${logical}`).toBe(created)
        expect(c.sqs_api_calls).toContainEqual([
          'CreateQueue',
          expect.objectContaining({ QueueName: created }),
        ])
        checked++
      }
    }
    expect(checked).toBe(6)
  })

  it('turns . into -, other punctuation into _, keeps - and _', () => {
    expect(entityName('golden.tasks.v1')).toBe('golden-tasks-v1')
    expect(entityName('odd:name@x')).toBe('odd_name_x')
    expect(entityName('a-b_c')).toBe('a-b_c')
    expect(entityName('!"#$%&\'()*+,/:;<=>?@[\\]^`{|}~')).toBe('_'.repeat(29))
    expect(entityName('celery')).toBe('celery')
  })

  it('keeps a .fifo suffix and mangles the rest', () => {
    expect(entityName('golden.fifo')).toBe('golden.fifo')
    expect(entityName('a.b:c.fifo')).toBe('a-b_c.fifo')
    expect(isFifo('https://sqs.eu-west-1.amazonaws.com/1/x.fifo')).toBe(true)
    expect(isFifo('x-fifo')).toBe(false)
  })

  it('prefixes before mangling, so the prefix is mangled too', () => {
    expect(physicalName('golden-', 'golden.tasks.v1')).toBe('golden-golden-tasks-v1')
    expect(physicalName('dev.', 'celery')).toBe('dev-celery')
  })

  it('leaves letters alone, ASCII or not (SQS refuses what it does not allow)', () => {
    expect(entityName('Crème brûlée 2')).toBe('Crème brûlée 2')
  })
})
