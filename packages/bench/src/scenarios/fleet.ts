// Worker processes of a multi-process scenario: `node --import tsx <file>`, configured through BENCH_WORKER, driven
// with one JSON command per line (see ../workers/protocol.ts). They are killed if the runner exits first.
import { type ChildProcess, spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { PREFIX } from '../workers/protocol.ts'

const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

class Worker {
  private readonly replies: unknown[] = []
  private waiting: { resolve(reply: unknown): void; reject(error: Error): void } | undefined
  private ended: Error | undefined

  constructor(
    readonly index: number,
    readonly child: ChildProcess,
  ) {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (line.startsWith(PREFIX)) this.receive(JSON.parse(line.slice(PREFIX.length)))
      else process.stderr.write(`[worker ${index + 1}] ${line}\n`)
    })
    child.stdin?.on('error', () => {}) // a dead worker is reported by 'close' below
    // 'close' comes after the last stdout line was read, unlike 'exit'.
    child.once('close', (code, signal) => {
      this.ended = new Error(`worker ${index + 1} exited (${signal ?? `code ${code}`})`)
      this.waiting?.reject(this.ended)
      this.waiting = undefined
    })
  }

  private receive(reply: unknown): void {
    const waiting = this.waiting
    this.waiting = undefined
    if (waiting) waiting.resolve(reply)
    else this.replies.push(reply)
  }

  /** The next reply; rejects with the worker's own error if it answered `{ error }`. */
  async next<R>(): Promise<R> {
    const reply = (await (this.replies.length > 0
      ? this.replies.shift()
      : this.ended
        ? Promise.reject(this.ended)
        : new Promise((resolve, reject) => {
            this.waiting = { resolve, reject }
          }))) as R & { error?: string }
    if (reply.error) throw new Error(`worker ${this.index + 1}: ${reply.error}`)
    return reply
  }

  send(command: object): void {
    this.child.stdin?.write(`${JSON.stringify(command)}\n`)
  }

  get alive(): boolean {
    return this.ended === undefined
  }
}

export interface Fleet {
  size: number
  /** Sends each worker its command (a function of its index) at once; resolves with their replies, in order. */
  all<R>(command: object | ((index: number) => object)): Promise<R[]>
  /** Sends one worker a command (or a signal, which is not answered). */
  send(index: number, command: object): void
  /** The next reply of one worker. */
  reply<R>(index: number): Promise<R>
  /** Asks every worker to quit, waits a little, then kills what is left. */
  close(): Promise<void>
}

/** Starts one worker per configuration (`src/workers/<name>.ts`) and waits until each is ready. */
export async function startFleet(name: string, configs: object[]): Promise<Fleet> {
  const file = join(benchDir, 'src', 'workers', `${name}.ts`)
  const workers = configs.map((config, index) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: benchDir,
      env: { ...process.env, BENCH_WORKER: JSON.stringify(config) },
      stdio: ['pipe', 'pipe', 'inherit'],
    })
    return new Worker(index, child)
  })
  const killAll = () => {
    for (const w of workers) if (w.alive) w.child.kill('SIGKILL')
  }
  process.on('exit', killAll)
  const close = async () => {
    for (const w of workers) if (w.alive) w.send({ cmd: 'quit' })
    const closed = workers.map((w) => (w.alive ? new Promise((resolve) => w.child.once('close', resolve)) : null))
    await Promise.race([Promise.all(closed), new Promise((resolve) => setTimeout(resolve, 5000).unref())])
    killAll()
    process.off('exit', killAll)
  }
  try {
    await Promise.all(workers.map((w) => w.next()))
  } catch (error) {
    await close()
    throw error
  }
  return {
    size: workers.length,
    all<R>(command: object | ((index: number) => object)) {
      for (const w of workers) w.send(typeof command === 'function' ? command(w.index) : command)
      return Promise.all(workers.map((w) => w.next<R>()))
    },
    send: (index, command) => workers[index]?.send(command),
    reply: <R>(index: number) => (workers[index] as Worker).next<R>(),
    close,
  }
}
