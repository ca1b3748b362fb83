// The line protocol between the runner and its worker processes. The runner passes a worker its configuration as
// JSON in BENCH_WORKER, then sends one JSON command per line on stdin; the worker answers each with one line on
// stdout prefixed with PREFIX (other output, e.g. a warning, is passed through); a few commands are signals, acted
// on at once and not answered. `{ cmd: 'quit' }` or the end of stdin (the runner died) makes the worker close its
// clients and exit.
import { createInterface } from 'node:readline'

export const PREFIX = '@@bench '

export interface Command {
  cmd: string
  [field: string]: unknown
}

export type Handler = (command: Command) => unknown

export function workerConfig<T>(): T {
  const text = process.env.BENCH_WORKER
  if (!text) throw new Error('BENCH_WORKER is not set: this file is started by the benchmark runner')
  return JSON.parse(text) as T
}

function send(message: unknown): void {
  process.stdout.write(`${PREFIX}${JSON.stringify(message)}\n`)
}

/**
 * Says ready, answers commands one at a time until `quit` or the end of stdin, then closes and exits. A command
 * named in `signals` is not queued: it runs as soon as its line arrives (while a command is under way, once that
 * one yields to the event loop) and gets no answer.
 */
export async function serve(
  handlers: Record<string, Handler>,
  close: () => Promise<void>,
  signals: Record<string, (command: Command) => void> = {},
): Promise<void> {
  const queue: Command[] = []
  let ended = false
  let wake: (() => void) | undefined
  const lines = createInterface({ input: process.stdin })
  lines.on('line', (line) => {
    const command = JSON.parse(line) as Command
    const signal = signals[command.cmd]
    if (signal) signal(command)
    else queue.push(command)
    wake?.()
  })
  lines.on('close', () => {
    ended = true
    wake?.()
  })
  send({ ready: true })
  for (;;) {
    const command = queue.shift()
    if (command === undefined) {
      if (ended) break
      await new Promise<void>((resolve) => {
        wake = resolve
      })
      continue
    }
    if (command.cmd === 'quit') break
    try {
      const handler = handlers[command.cmd]
      if (!handler) throw new Error(`unknown command ${command.cmd}`)
      send((await handler(command)) ?? {})
    } catch (error) {
      send({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) })
    }
  }
  lines.close()
  await close()
  // Every client is closed, so the process should end by itself; should one handle linger, do not hang the run.
  setTimeout(() => process.exit(0), 2000).unref()
}

/** Milliseconds since the epoch with sub-millisecond precision, comparable between processes on one machine. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now()
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
