/**
 * What Strata uses of an ioredis client, as a structural type: a `Redis` or `Cluster` of ioredis 5 or 6 fits, from
 * whichever copy of ioredis the application installed (its `new Redis()` need not be Strata's).
 */
// biome-ignore lint/suspicious/noExplicitAny: event listeners of any shape, as ioredis declares them
type Listener = (...args: any[]) => void
type Arg = string | Buffer | number

/** Whether `client` is an ioredis `Cluster` (a `Redis` says `isCluster: false`). */
export function isCluster(client: RedisClient): boolean {
  return (client as unknown as { isCluster?: boolean }).isCluster === true
}

export interface RedisClient {
  get(key: string): Promise<string | null>
  getBuffer(key: string): Promise<Buffer | null>
  set(key: string, value: string | Buffer, mode: 'PX', ms: number): Promise<unknown>
  set(key: string, value: string | Buffer, mode: 'PX', ms: number, condition: 'NX'): Promise<unknown>
  del(...keys: string[]): Promise<number>
  evalsha(sha: string, numKeys: number, ...args: Arg[]): Promise<unknown>
  eval(script: string, numKeys: number, ...args: Arg[]): Promise<unknown>
  callBuffer(command: string, ...args: Arg[]): Promise<unknown>
  publish(channel: string, message: string): Promise<number>
  subscribe(...channels: string[]): Promise<unknown>
  duplicate(): RedisClient
  on(event: string, listener: Listener): unknown
  off(event: string, listener: Listener): unknown
  disconnect(reconnect?: boolean): void
}
