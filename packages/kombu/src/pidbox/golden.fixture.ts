/**
 * Golden samples of the pidbox wire format, cut from the captures in the shared protocol
 * reference (`golden/pidbox_control.{amqp,redis}.json`: Celery 5.2.6 / Kombu 5.2.4 talking to a
 * real worker named `capture@golden`). Test data only.
 */

/** Request and reply of a few remote-control calls, as they crossed the broker. */
export const PIDBOX_GOLDEN = {
  ping: {
    request: {
      exchange: 'celery.pidbox',
      routingKey: '',
      deliveryMode: 2,
      contentType: 'application/json',
      headers: {
        clock: 7,
        expires: 1795270751.1796408,
      },
      bodyRaw:
        '{"method": "ping", "arguments": {}, "destination": ["capture@golden"], "pattern": null, "matcher": null, "ticket": "c0ec357a-817d-4b80-ab5d-db085c8ff368", "reply_to": {"exchange": "reply.celery.pidbox", "routing_key": "a60c585c-7f88-3341-96b7-70b05828359a"}}',
      body: {
        method: 'ping',
        arguments: {},
        destination: ['capture@golden'],
        pattern: null,
        matcher: null,
        ticket: 'c0ec357a-817d-4b80-ab5d-db085c8ff368',
        reply_to: {
          exchange: 'reply.celery.pidbox',
          routing_key: 'a60c585c-7f88-3341-96b7-70b05828359a',
        },
      },
    },
    reply: {
      exchange: 'reply.celery.pidbox',
      routingKey: 'a60c585c-7f88-3341-96b7-70b05828359a',
      deliveryMode: 1,
      headers: {
        ticket: 'c0ec357a-817d-4b80-ab5d-db085c8ff368',
        clock: 9,
      },
      bodyRaw: '{"capture@golden": {"ok": "pong"}}',
      body: {
        'capture@golden': {
          ok: 'pong',
        },
      },
    },
  },
  unknownCommand: {
    request: {
      exchange: 'celery.pidbox',
      routingKey: '',
      deliveryMode: 2,
      contentType: 'application/json',
      headers: {
        clock: 119,
        expires: 1795270763.3352747,
      },
      bodyRaw:
        '{"method": "no_such_command", "arguments": {}, "destination": ["capture@golden"], "pattern": null, "matcher": null, "ticket": "d0278764-3237-410a-86aa-3ea5b3235b7b", "reply_to": {"exchange": "reply.celery.pidbox", "routing_key": "b659458c-1e4c-31e5-9463-afb1b366f127"}}',
      body: {
        method: 'no_such_command',
        arguments: {},
        destination: ['capture@golden'],
        pattern: null,
        matcher: null,
        ticket: 'd0278764-3237-410a-86aa-3ea5b3235b7b',
        reply_to: {
          exchange: 'reply.celery.pidbox',
          routing_key: 'b659458c-1e4c-31e5-9463-afb1b366f127',
        },
      },
    },
    reply: {
      exchange: 'reply.celery.pidbox',
      routingKey: 'b659458c-1e4c-31e5-9463-afb1b366f127',
      deliveryMode: 1,
      headers: {
        ticket: 'd0278764-3237-410a-86aa-3ea5b3235b7b',
        clock: 121,
      },
      bodyRaw: '{"capture@golden": {"error": "KeyError(\'no_such_command\')"}}',
      body: {
        'capture@golden': {
          error: "KeyError('no_such_command')",
        },
      },
    },
  },
  pingPattern: {
    request: {
      exchange: 'celery.pidbox',
      routingKey: '',
      deliveryMode: 2,
      contentType: 'application/json',
      headers: {
        clock: 123,
        expires: 1795270763.6471837,
      },
      bodyRaw:
        '{"method": "ping", "arguments": {}, "destination": null, "pattern": "capture@*", "matcher": "glob", "ticket": "41758fb6-5d29-4f0d-8046-4532c1f53320", "reply_to": {"exchange": "reply.celery.pidbox", "routing_key": "11b04af0-1cc8-348c-8146-58bf56347f6c"}}',
      body: {
        method: 'ping',
        arguments: {},
        destination: null,
        pattern: 'capture@*',
        matcher: 'glob',
        ticket: '41758fb6-5d29-4f0d-8046-4532c1f53320',
        reply_to: {
          exchange: 'reply.celery.pidbox',
          routing_key: '11b04af0-1cc8-348c-8146-58bf56347f6c',
        },
      },
    },
    reply: {
      exchange: 'reply.celery.pidbox',
      routingKey: '11b04af0-1cc8-348c-8146-58bf56347f6c',
      deliveryMode: 1,
      headers: {
        ticket: '41758fb6-5d29-4f0d-8046-4532c1f53320',
        clock: 125,
      },
      bodyRaw: '{"capture@golden": {"ok": "pong"}}',
      body: {
        'capture@golden': {
          ok: 'pong',
        },
      },
    },
  },
  pingBroadcast: {
    request: {
      exchange: 'celery.pidbox',
      routingKey: '',
      deliveryMode: 2,
      contentType: 'application/json',
      headers: {
        clock: 15,
        expires: 1795270751.799285,
      },
      bodyRaw:
        '{"method": "ping", "arguments": {}, "destination": null, "pattern": null, "matcher": null, "ticket": "eaec862c-4ac2-45c4-b66f-18b1991e5c6d", "reply_to": {"exchange": "reply.celery.pidbox", "routing_key": "a8f72681-05c7-30b0-939b-f280cb3edab7"}}',
      body: {
        method: 'ping',
        arguments: {},
        destination: null,
        pattern: null,
        matcher: null,
        ticket: 'eaec862c-4ac2-45c4-b66f-18b1991e5c6d',
        reply_to: {
          exchange: 'reply.celery.pidbox',
          routing_key: 'a8f72681-05c7-30b0-939b-f280cb3edab7',
        },
      },
    },
    reply: {
      exchange: 'reply.celery.pidbox',
      routingKey: 'a8f72681-05c7-30b0-939b-f280cb3edab7',
      deliveryMode: 1,
      headers: {
        ticket: 'eaec862c-4ac2-45c4-b66f-18b1991e5c6d',
        clock: 17,
      },
      bodyRaw: '{"capture@golden": {"ok": "pong"}}',
      body: {
        'capture@golden': {
          ok: 'pong',
        },
      },
    },
  },
  redisPing: {
    requestEnvelope: {
      body: 'eyJtZXRob2QiOiAicGluZyIsICJhcmd1bWVudHMiOiB7fSwgImRlc3RpbmF0aW9uIjogWyJjYXB0dXJlQGdvbGRlbiJdLCAicGF0dGVybiI6IG51bGwsICJtYXRjaGVyIjogbnVsbCwgInRpY2tldCI6ICIzZDg4ZThlNi1kOWMzLTQyZTEtOWM2ZC1jMzE3ZTY3MzM1OTgiLCAicmVwbHlfdG8iOiB7ImV4Y2hhbmdlIjogInJlcGx5LmNlbGVyeS5waWRib3giLCAicm91dGluZ19rZXkiOiAiYTdjZTkyZjUtN2M0ZC0zMWYyLTg2NzItNGQzMTgwNTc3YzQzIn19',
      'content-encoding': 'utf-8',
      'content-type': 'application/json',
      headers: {
        clock: 7,
        expires: 1795270728.2682214,
      },
      properties: {
        delivery_mode: 2,
        delivery_info: {
          exchange: 'celery.pidbox',
          routing_key: '',
        },
        priority: 0,
        body_encoding: 'base64',
        delivery_tag: 'bef7b60b-9cdb-4afe-9c6a-b7080629e808',
      },
    },
    pubsubChannel: '/0.celery.pidbox',
    replyEnvelope: {
      body: 'eyJjYXB0dXJlQGdvbGRlbiI6IHsib2siOiAicG9uZyJ9fQ==',
      'content-encoding': 'utf-8',
      'content-type': 'application/json',
      headers: {
        ticket: '3d88e8e6-d9c3-42e1-9c6d-c317e6733598',
        clock: 9,
      },
      properties: {
        delivery_mode: 1,
        delivery_info: {
          exchange: 'reply.celery.pidbox',
          routing_key: 'a7ce92f5-7c4d-31f2-8672-4d3180577c43',
        },
        priority: 0,
        body_encoding: 'base64',
        delivery_tag: 'b6a73113-7c7e-40f3-8af2-189570bc46cb',
      },
    },
    replyQueue: 'a7ce92f5-7c4d-31f2-8672-4d3180577c43.reply.celery.pidbox',
  },
} as const
