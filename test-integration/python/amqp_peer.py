"""A Python Kombu peer for the AMQP interop tests (amqp-python-interop.test.ts).

Reads a JSON spec on stdin and prints JSON on stdout:

  {"command": "publish", "url": ..., "messages": [{"exchange": {...}|null, "routing_key": ...,
   "body": ..., "serializer": "json"|"msgpack", "headers": "all"|{...}, "priority": n,
   "correlation_id": ..., "declare": [queue specs]}]}
      publishes with kombu.Producer; prints {"published": n}

  {"command": "consume", "url": ..., "queue": {...}, "count": n, "timeout": seconds}
      fetches n messages with basic.get (acking them); prints each with its headers typed the
      way Python sees them ({"type": "int", "value": 5}), its properties and delivery info.

  {"command": "expected"}
      prints ALL_HEADERS typed as above: what headers from TypeScript must decode to in Python.

A queue spec is {"name", "exchange": {"name", "type"}|null, "routing_key", "arguments"}.
"""
import base64
import datetime
import decimal
import json
import sys
import time

from kombu import Connection, Exchange, Producer, Queue

# Every type py-amqp writes in a header table. The TypeScript side publishes the same values.
ALL_HEADERS = {
    'str': 'h\u00e9llo \u2713 \U0001F600',
    'int': 42,
    'neg': -7,
    'zero': 0,
    'int32max': 2147483647,
    'big': 2 ** 40,
    'bigneg': -(2 ** 40),
    'float': 1.5,
    'none': None,
    'true': True,
    'false': False,
    'list': [1, 'two', None, [3.5, False]],
    'dict': {'a': 1, 'nested': {'b': [True, None]}},
    'when': datetime.datetime(2022, 1, 2, 3, 4, 5),
    'empty_list': [],
    'empty_dict': {},
}
# Only Python can write a Decimal; the TypeScript side reads it as a string.
PY_ONLY_HEADERS = {'price': decimal.Decimal('3.14')}


def exchange_of(spec):
    if not spec:
        return Exchange('')
    return Exchange(spec['name'], type=spec.get('type', 'direct'), durable=True)


def queue_of(spec):
    return Queue(
        spec['name'],
        exchange=exchange_of(spec.get('exchange')),
        routing_key=spec.get('routing_key', spec['name']),
        queue_arguments=spec.get('arguments') or None,
        durable=True,
    )


def typed(value):
    """A value with its Python type name, recursively."""
    name = type(value).__name__
    if isinstance(value, dict):
        return {'type': name, 'value': {k: typed(v) for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return {'type': name, 'value': [typed(v) for v in value]}
    if isinstance(value, datetime.datetime):
        return {'type': name, 'value': value.isoformat()}
    if isinstance(value, decimal.Decimal):
        return {'type': name, 'value': str(value)}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {'type': 'bytes', 'value': base64.b64encode(bytes(value)).decode()}
    return {'type': name, 'value': value}


def jsonable(value):
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {'bytes': base64.b64encode(bytes(value)).decode()}
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def publish(spec):
    with Connection(spec['url']) as conn:
        producer = Producer(conn.default_channel)
        for m in spec['messages']:
            headers = m.get('headers') or {}
            if headers == 'all':
                headers = dict(ALL_HEADERS, **PY_ONLY_HEADERS)
            options = {}
            for key in ('priority', 'correlation_id', 'reply_to', 'expiration'):
                if m.get(key) is not None:
                    options[key] = m[key]
            producer.publish(
                m['body'],
                exchange=exchange_of(m.get('exchange')),
                routing_key=m['routing_key'],
                serializer=m.get('serializer', 'json'),
                headers=headers,
                declare=[queue_of(q) for q in m.get('declare', [])],
                retry=True,
                **options,
            )
    return {'published': len(spec['messages'])}


def consume(spec):
    received = []
    deadline = time.monotonic() + spec.get('timeout', 10)
    with Connection(spec['url']) as conn:
        queue = queue_of(spec['queue'])(conn.default_channel)
        queue.declare()
        while len(received) < spec['count'] and time.monotonic() < deadline:
            message = queue.get(accept=['json', 'msgpack', 'application/data', 'text/plain'])
            if message is None:
                time.sleep(0.02)
                continue
            props = {k: v for k, v in message.properties.items() if k != 'application_headers'}
            received.append({
                'body': jsonable(message.decode()),
                'content_type': message.content_type,
                'content_encoding': message.content_encoding,
                'headers': {k: typed(v) for k, v in message.headers.items()},
                'properties': jsonable(props),
                'delivery_info': {k: message.delivery_info.get(k) for k in ('exchange', 'routing_key', 'redelivered')},
            })
            message.ack()
    return {'messages': received}


def expected(_spec):
    """ALL_HEADERS as Python itself types them: what a header table from TypeScript must decode to."""
    return {'headers': {k: typed(v) for k, v in ALL_HEADERS.items()}}


COMMANDS = {'publish': publish, 'consume': consume, 'expected': expected}

if __name__ == '__main__':
    request = json.load(sys.stdin)
    print(json.dumps(COMMANDS[request['command']](request)))
