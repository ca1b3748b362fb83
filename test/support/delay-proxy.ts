// A TCP proxy in front of a Redis server that holds every chunk, both ways, for `delayMs`: a Redis that answers,
// slowly. Chunks keep their order (equal delays fire in the order they were set).
import { connect, createServer, type Socket } from 'node:net'

export interface DelayProxy {
  url: string
  close(): Promise<void>
}

export async function delayProxy(port: number, delayMs: number): Promise<DelayProxy> {
  const sockets = new Set<Socket>()
  const later = (chunk: Buffer, to: Socket) => setTimeout(() => to.writable && to.write(chunk), delayMs)
  const proxy = createServer((client) => {
    const upstream = connect(port, '127.0.0.1')
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('error', () => {})
      socket.on('close', () => sockets.delete(socket))
    }
    client.on('data', (chunk) => later(chunk, upstream))
    upstream.on('data', (chunk) => later(chunk, client))
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  const { port: own } = proxy.address() as { port: number }
  return {
    url: `redis://127.0.0.1:${own}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        proxy.close(() => resolve())
      }),
  }
}
