// A TCP proxy in front of a Redis server, for faults no server command makes: `delayMs` holds every chunk, both
// ways, that long (a Redis that answers, slowly; chunks keep their order), and `frozen` drops what arrives while it
// is set, with every socket left open (a partition or a half-open connection: nothing closes, nothing arrives);
// `holds` drops the client's commands that match it (a command the server never answers), and `cut()` closes every
// connection (the client reconnects).
import { connect, createServer, type Socket } from 'node:net'

export interface FaultProxy {
  url: string
  port: number
  /** While true, bytes in either direction are dropped and no socket closes. */
  frozen: boolean
  /** Bytes from the client that match this are dropped, counted in `held`. */
  holds: RegExp | undefined
  held: number
  /** Closes every connection open now. */
  cut(): void
  close(): Promise<void>
}

export async function faultProxy(port: number, { delayMs = 0 } = {}): Promise<FaultProxy> {
  const sockets = new Set<Socket>()
  const forward = (chunk: Buffer, to: Socket) => {
    if (state.frozen) return
    if (delayMs === 0) to.write(chunk)
    else setTimeout(() => to.writable && to.write(chunk), delayMs)
  }
  const proxy = createServer((client) => {
    const upstream = connect(port, '127.0.0.1')
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('error', () => {})
      socket.on('close', () => sockets.delete(socket))
    }
    client.on('data', (chunk) => {
      if (state.holds?.test(chunk.toString('latin1'))) state.held++
      else forward(chunk, upstream)
    })
    upstream.on('data', (chunk) => forward(chunk, client))
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  const { port: own } = proxy.address() as { port: number }
  const state: FaultProxy = {
    url: `redis://127.0.0.1:${own}`,
    port: own,
    frozen: false,
    holds: undefined,
    held: 0,
    cut: () => {
      for (const socket of sockets) socket.destroy()
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        proxy.close(() => resolve())
      }),
  }
  return state
}
