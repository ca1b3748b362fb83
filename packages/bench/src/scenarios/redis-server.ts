// A throwaway redis-server for the multi-process scenarios: nothing else talks to it, so `INFO commandstats` counts
// exactly the commands the workers sent (a cross-check of their own counts), and no key outlives the run.
import { spawn } from 'node:child_process'
import { type AddressInfo, createServer } from 'node:net'
import { Redis } from 'ioredis'

export interface RedisServer {
  url: string
  version: string
  /** Calls of every command since the server started, by lower-case name (INFO commandstats). */
  commandCalls(): Promise<Record<string, number>>
  stop(): Promise<void>
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo
      probe.close(() => resolve(port))
    })
  })
}

export async function startRedisServer(binary = 'redis-server'): Promise<RedisServer> {
  const port = await freePort()
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']
  const child = spawn(binary, [...args, '--loglevel', 'warning'], { stdio: 'ignore' })
  const killOnExit = () => child.kill('SIGKILL')
  process.on('exit', killOnExit)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  try {
    await new Promise((resolve, reject) => child.once('spawn', resolve).once('error', reject))
  } catch (error) {
    process.off('exit', killOnExit)
    throw error
  }
  const url = `redis://127.0.0.1:${port}`
  // Retries every 20 ms until the server listens.
  const admin = new Redis(url, { retryStrategy: () => 20, maxRetriesPerRequest: null })
  admin.on('error', () => {}) // refused until the server listens
  const ready = new Promise<void>((resolve) => admin.once('ready', () => resolve()))
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error('redis-server did not answer within 5 s')), 5000).unref(),
  )
  const stop = async () => {
    admin.disconnect()
    child.kill('SIGTERM')
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000).unref())])
    child.kill('SIGKILL')
    process.off('exit', killOnExit)
  }
  try {
    await Promise.race([ready, timeout])
  } catch (error) {
    await stop()
    throw error
  }
  const version = /redis_version:(\S+)/.exec(await admin.info('server'))?.[1] ?? 'unknown'
  return {
    url,
    version,
    async commandCalls() {
      const calls: Record<string, number> = {}
      for (const [, name, n] of (await admin.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
        calls[name as string] = Number(n)
      }
      return calls
    },
    stop,
  }
}
