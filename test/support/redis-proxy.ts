// A TCP proxy in front of a Redis server, as a Sentinel-managed address is: instances connect to it, `moveTo` points it
// at another server (a failover: every connection through it drops), `cut` drops and refuses every connection until
// `mend`.
import { connect, createServer, type Socket } from 'node:net'

export interface RedisProxy {
  port: number
  moveTo(port: number): void
  cut(): void
  mend(): void
  close(): Promise<void>
}

export async function redisProxy(target: number): Promise<RedisProxy> {
  let to = target
  let cut = false
  const sockets = new Set<Socket>()
  const proxy = createServer((client) => {
    if (cut) return client.destroy()
    const upstream = connect(to, '127.0.0.1')
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
      socket.on('error', () => {})
    }
    client.pipe(upstream).pipe(client)
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  const drop = () => {
    for (const socket of sockets) socket.destroy()
  }
  return {
    port: (proxy.address() as { port: number }).port,
    moveTo(port) {
      to = port
      drop()
    },
    cut() {
      cut = true
      drop()
    },
    mend() {
      cut = false
    },
    close: () => new Promise<void>((resolve) => proxy.close(() => resolve())),
  }
}
