// A TCP proxy in front of a Redis server, for faults no server command makes: `delayMs` holds every chunk, both
// ways, that long (a Redis that answers, slowly; chunks keep their order), and `frozen` drops what arrives while it
// is set, with every socket left open (a partition or a half-open connection: nothing closes, nothing arrives);
// `holds` drops the client's commands that match it (a command the server never answers), `stalls` keeps the
// server's replies on a connection once the client sent a command that matches it, until `release()` (a reply on
// its way while other connections go on; `releaseSome` lets part of them through), `watch` counts the server's
// chunks that match it, `sends` the client's, and `cut()` closes every connection (the client reconnects).
import { connect, createServer, type Socket } from 'node:net'

export interface FaultProxy {
  url: string
  port: number
  /** While true, bytes in either direction are dropped and no socket closes. */
  frozen: boolean
  /** Bytes from the client that match this are dropped, counted in `held`. */
  holds: RegExp | undefined
  held: number
  /**
   * Once a connection's client sends a command that matches this, the server's replies on that connection wait
   * (counted in `stalled`) until `release()`; other connections go on.
   */
  stalls: RegExp | undefined
  stalled: number
  /** Sends the replies `stalls` kept, in order, and lets them through again. */
  release(): void
  /**
   * Sends, on each connection, the chunks `stalls` kept before the first that matches `until` (all of them when
   * none does; only the first when `until` is not given), and keeps the rest and what comes after.
   */
  releaseSome(until?: RegExp): void
  /** The server's chunks that match this (to any client) are counted in `watched` as they are forwarded. */
  watch: RegExp | undefined
  watched: number
  /** The client's chunks that match this are counted in `sent` as they are forwarded (or kept from the server). */
  sends: RegExp | undefined
  sent: number
  /** Closes every connection open now. */
  cut(): void
  close(): Promise<void>
}

export async function faultProxy(port: number, { delayMs = 0 } = {}): Promise<FaultProxy> {
  const sockets = new Set<Socket>()
  const releases: Array<() => void> = []
  const stalledConnections: Array<{ replies: Buffer[]; client: Socket }> = []
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
    let kept: Buffer[] | undefined
    client.on('data', (chunk) => {
      const text = chunk.toString('latin1')
      if (state.holds?.test(text)) {
        state.held++
        return
      }
      if (state.sends?.test(text)) state.sent++
      if (!kept && state.stalls?.test(text)) {
        const replies: Buffer[] = []
        kept = replies
        stalledConnections.push({ replies, client })
        releases.push(() => {
          kept = undefined
          for (const reply of replies.splice(0)) forward(reply, client)
        })
      }
      forward(chunk, upstream)
    })
    upstream.on('data', (chunk) => {
      if (state.watch?.test(chunk.toString('latin1'))) state.watched++
      if (!kept) forward(chunk, client)
      else {
        kept.push(chunk)
        state.stalled++
      }
    })
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
    stalls: undefined,
    stalled: 0,
    release: () => {
      state.stalls = undefined
      stalledConnections.splice(0)
      for (const release of releases.splice(0)) release()
    },
    releaseSome: (until) => {
      for (const { replies, client } of stalledConnections) {
        let count = until ? replies.findIndex((reply) => until.test(reply.toString('latin1'))) : 1
        if (count < 0) count = replies.length
        for (const reply of replies.splice(0, count)) forward(reply, client)
      }
    },
    watch: undefined,
    watched: 0,
    sends: undefined,
    sent: 0,
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
