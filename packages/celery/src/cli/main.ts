#!/usr/bin/env node
/**
 * `q`: the command line of @q/celery, as Celery's `celery` command.
 *
 *   q worker -A ./app.ts -Q a,b -c 10 -l info -n name@%h
 *   q call -A ./app.ts tasks.add --args '[2, 3]'
 *   q result -A ./app.ts <task-id>
 *   q purge -A ./app.ts -f
 */
import { callCommand, type Io, purgeCommand, resultCommand, workerCommand } from './commands.js'

const USAGE = `usage: q <command> -A <app module> [options]

commands:
  worker   start a worker        (-Q queues, -c concurrency, -l loglevel, -n name@%h, --json-logs,
                                  --without-mingle; V8 heap, node restarted with the flags:
                                  --max-semi-space-size MB (default 16), --optimize-for-size
                                  (~-40% RSS, ~2.4x CPU); before Node 22.15 the restart keeps a
                                  ~40 MB parent: prefer NODE_OPTIONS there; set in-process:
                                  --heap-growing-percent N (V8 picks 10-300 by itself); semi-space
                                  4 with growing 30: ~-33% RSS, 0-30% more CPU)
  call     send a task by name   (--args JSON, --kwargs JSON, --countdown s, --expires s, -Q queue)
  result   wait for a result     (--timeout ms, --traceback)
  purge    delete waiting tasks  (-Q queues, -f to confirm)`

const io: Io = { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) }
const commands: Record<string, (argv: string[], io: Io) => Promise<number>> = {
  worker: workerCommand,
  call: callCommand,
  result: resultCommand,
  purge: purgeCommand,
}

const [name, ...rest] = process.argv.slice(2)
const command = name ? commands[name] : undefined
if (!command) {
  io.err(USAGE)
  process.exit(name === '--help' || name === '-h' ? 0 : 2)
}
command(rest, io).then(
  (code) => process.exit(code),
  (err: Error) => {
    io.err(`q ${name}: ${err.message}`)
    process.exit(1)
  },
)
