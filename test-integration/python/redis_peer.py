"""A Python Kombu peer for the Redis interop tests (redis-python-interop.test.ts).

Reads a JSON spec on stdin and prints JSON lines on stdout. Every spec has "url" and
"transport_options" (passed to kombu.Connection as they are).

  {"command": "publish", "messages": [{"exchange": {...}|null, "routing_key", "body",
   "serializer", "headers", "priority", "correlation_id", "declare": [queue specs]}]}
      publishes with kombu.Producer; prints {"published": n}

  {"command": "consume", "queue": {...}, "count": n, "timeout": seconds, "ack": true}
      consumes n messages with a kombu.Consumer (acking them unless "ack" is false); prints
      {"messages": [{body, headers, properties, delivery_info, redelivered}]}

  {"command": "subscribe", "queue": {...}, "count": n, "timeout": seconds}
      as consume, for a queue bound to a fanout exchange (pub/sub): prints {"ready": true} once
      subscribed, then the messages.

  {"command": "take_and_die", "queue": {...}}
      takes one message without acking it, then exits at once (os._exit), as a killed worker:
      the message stays in Redis' unacked structures. Prints {"took": body}.

  {"command": "restore_visible", "queue": {...}}
      runs Kombu's restore scan (QoS.restore_visible) once, then basic_get: prints
      {"message": {...}|null}.

A queue spec is {"name", "exchange": {"name", "type"}|null, "routing_key"}.
"""
import json
import os
import socket
import sys
import time

from kombu import Connection, Consumer, Exchange, Producer, Queue


def exchange_of(spec):
    if not spec:
        return Exchange('')
    return Exchange(spec['name'], type=spec.get('type', 'direct'))


def queue_of(spec):
    return Queue(spec['name'], exchange=exchange_of(spec.get('exchange')),
                 routing_key=spec.get('routing_key', spec['name']))


def described(message):
    return {
        'body': message.decode(),
        'headers': message.headers,
        'properties': {k: v for k, v in message.properties.items()
                       if k not in ('delivery_info', 'delivery_tag', 'body_encoding')},
        'delivery_info': {k: v for k, v in message.delivery_info.items()
                          if k in ('exchange', 'routing_key', 'redelivered')},
        'redelivered': bool(message.delivery_info.get('redelivered')),
        'content_type': message.content_type,
    }


def out(obj):
    print(json.dumps(obj), flush=True)


def publish(conn, spec):
    producer = Producer(conn.default_channel)
    for m in spec['messages']:
        kwargs = {k: m[k] for k in ('priority', 'correlation_id') if k in m}
        exchange = exchange_of(m.get('exchange'))
        # Redis keeps no exchange types: a publisher must declare a fanout exchange to use pub/sub.
        declare = [queue_of(q) for q in m.get('declare', [])] + ([exchange] if exchange.name else [])
        producer.publish(
            m['body'], exchange=exchange, routing_key=m.get('routing_key', ''),
            serializer=m.get('serializer', 'json'), headers=m.get('headers') or {},
            declare=declare, **kwargs)
    out({'published': len(spec['messages'])})


def consume(conn, spec, announce=False):
    got = []

    def on_message(body, message):
        got.append(described(message))
        if spec.get('ack', True):
            message.ack()

    queue = queue_of(spec['queue'])
    with Consumer(conn, [queue], callbacks=[on_message], accept=['json', 'msgpack', 'text/plain', 'application/data']):
        deadline = time.time() + spec.get('timeout', 10)
        if announce:
            # Kombu subscribes on its first poll: drain once so that the PSUBSCRIBE is sent.
            try:
                conn.drain_events(timeout=0.2)
            except socket.timeout:
                pass
            out({'ready': True})
        while len(got) < spec['count'] and time.time() < deadline:
            try:
                conn.drain_events(timeout=0.5)
            except socket.timeout:
                pass
    out({'messages': got})


def take_and_die(conn, spec):
    queue = queue_of(spec['queue'])
    channel = conn.channel()
    message = channel.basic_get(queue.name, no_ack=False)
    out({'took': message.decode() if message else None})
    os._exit(0)


def restore_visible(conn, spec):
    channel = conn.channel()
    channel.qos.restore_visible(num=100)
    message = channel.basic_get(spec['queue']['name'], no_ack=True)
    out({'message': described(message) if message else None})


def main():
    spec = json.loads(sys.stdin.read())
    with Connection(spec['url'], transport_options=spec.get('transport_options', {})) as conn:
        command = spec['command']
        if command == 'publish':
            publish(conn, spec)
        elif command == 'consume':
            consume(conn, spec)
        elif command == 'subscribe':
            consume(conn, spec, announce=True)
        elif command == 'take_and_die':
            take_and_die(conn, spec)
        elif command == 'restore_visible':
            restore_visible(conn, spec)
        else:
            raise SystemExit(f'unknown command {command}')


if __name__ == '__main__':
    main()
