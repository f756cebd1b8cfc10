import { defineProject } from 'vitest/config'
import { sharedResolve } from '../../vitest.shared.ts'

// Against the real RabbitMQ (AMQP_URL, default amqp://guest:guest@127.0.0.1:5672), in a vhost
// of its own made for the run by test/global-setup.ts.
export default defineProject({
  resolve: sharedResolve,
  test: {
    name: 'kombu-amqp-integration',
    include: ['src/**/*.int.test.ts'],
    globalSetup: ['./test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
})
