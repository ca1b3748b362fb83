// The invalidation bus on fake timers: when a process may trust what it heard, how fast it stops when the channel
// goes silent (the staleness bound, design invariant 6, docs/design.md), and what the heartbeat costs. Redis is
// test/fake-redis.ts, whose subscriber can go deaf (a half-open connection) or hold messages back (a slow network).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { resolveOptions } from '../src/options'
import { Bus } from '../src/store/bus'
import { FakeRedis } from './fake-redis'

const CHANNEL = 'bt:bus'
const defaults = resolveOptions({})
const V = 1_700_000_000_000_000

interface Started {
  client: FakeRedis
  subscriber: FakeRedis
  events: string[]
  messages: Array<[string[], number[]]>
  errors: Error[]
  bus: Bus
}

let running: Bus[] = []
beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(async () => {
  for (const bus of running) await bus.close()
  running = []
  vi.useRealTimers()
})

/** A bus started on a fresh fake server, subscribed; `events` records down/quiet/up/dirty in order. */
async function start(
  options: { heartbeat?: number; staleness?: number } = {},
  onEvent: (event: string) => void = () => undefined,
): Promise<Started> {
  const { heartbeat, staleness } = resolveOptions(options)
  const client = new FakeRedis()
  const events: string[] = []
  const record = (event: string) => {
    events.push(event)
    onEvent(event)
  }
  const messages: Array<[string[], number[]]> = []
  const errors: Error[] = []
  const bus = new Bus(
    client,
    CHANNEL,
    'me',
    {
      message: (names, versions) => messages.push([names, versions]),
      dirty: (names) => record(`dirty ${names.join(' ')}`),
      down: () => record('down'),
      quiet: () => record('quiet'),
      up: () => record('up'),
    },
    (error) => errors.push(error),
    heartbeat,
    staleness,
  )
  running.push(bus)
  bus.start()
  const subscriber = client.server.connections.at(-1) as FakeRedis
  await vi.advanceTimersByTimeAsync(0)
  return { client, subscriber, events, messages, errors, bus }
}

/** Another instance's bump is heard, then the subscriber goes deaf: the silence starts now. */
async function goDeaf({ client, subscriber }: Started): Promise<void> {
  await client.duplicate().publish(CHANNEL, `other m:Other ${V}`)
  await vi.advanceTimersByTimeAsync(0)
  subscriber.deaf = true
}

const beats = (client: FakeRedis) => client.server.published.filter((p) => p.message.startsWith('me ~ ')).length

describe('a healthy channel', () => {
  it('is trusted from the subscription on, and a quiet one costs at most a beat per quarter of the bound', async () => {
    const { client, events } = await start()
    expect(events).toEqual(['up'])
    const minute = 60_000
    await vi.advanceTimersByTimeAsync(minute)
    expect(events).toEqual(['up'])
    expect(beats(client)).toBeGreaterThan(0)
    expect(beats(client)).toBeLessThanOrEqual(minute / (defaults.staleness / 4))
  })

  it('carries no heartbeat while other messages prove it works', async () => {
    const { client, events, messages } = await start()
    const other = client.duplicate()
    const traffic = setInterval(() => void other.publish(CHANNEL, `other m:User ${V}`), 100)
    await vi.advanceTimersByTimeAsync(10_000)
    clearInterval(traffic)
    expect(beats(client)).toBe(0)
    expect(messages.length).toBe(100)
    expect(events).toEqual(['up'])
  })
})

describe('a subscriber that hears nothing (connected, but messages no longer arrive)', () => {
  it('stops trusting within the staleness bound, then drops its state and reconnects after 3 heartbeats', async () => {
    const started = await start()
    const { client, subscriber, events, messages } = started
    await vi.advanceTimersByTimeAsync(1000)
    await goDeaf(started)
    // By half the bound and one check (every tenth of it): the other half is left for timers that run late.
    await vi.advanceTimersByTimeAsync(defaults.staleness / 2 + defaults.staleness / 10)
    expect(events).toEqual(['up', 'quiet'])
    // Another instance's writes meanwhile are unheard: the process must not have answered from its versions.
    await vi.advanceTimersByTimeAsync(3 * defaults.heartbeat)
    expect(events.slice(0, 3)).toEqual(['up', 'quiet', 'down'])
    expect(subscriber.disconnects).toEqual([true])
    // The reconnected subscriber is trusted again and hears other instances.
    expect(events.at(-1)).toBe('up')
    await client.duplicate().publish(CHANNEL, `other m:Post ${V}`)
    await vi.advanceTimersByTimeAsync(0)
    expect(messages.at(-1)).toEqual([['m:Post'], [V]])
  })

  it('after a silence, trusts again only on its own beat published after the silence began', async () => {
    let heldAtQuiet = -1
    const { client, subscriber, events } = await start({}, (event) => {
      if (event === 'quiet') heldAtQuiet = subscriber.held.length
    })
    await vi.advanceTimersByTimeAsync(1000)
    subscriber.holding = true
    await vi.advanceTimersByTimeAsync(defaults.staleness)
    expect(events).toEqual(['up', 'quiet'])
    // What was said before the silence was noticed (own beats, another instance's bump) proves nothing about
    // what was published since: it does not restore trust.
    await client.duplicate().publish(CHANNEL, `other m:User ${V}`)
    const earlier = subscriber.held.slice(0, heldAtQuiet).filter((m) => m.message.startsWith('me ~ ')).length
    expect(earlier).toBeGreaterThan(0)
    subscriber.release(heldAtQuiet)
    expect(events).toEqual(['up', 'quiet'])
    subscriber.holding = false
    subscriber.release()
    expect(events).toEqual(['up', 'quiet', 'up'])
  })

  it('after a stall of its own, reads what arrived meanwhile before it judges the silence', async () => {
    const { client, subscriber, events } = await start()
    await vi.advanceTimersByTimeAsync(1000)
    // The process runs nothing for longer than half the bound (a long task, GC, descheduled) while another
    // instance's bump arrives: it sits in the socket, unread, when the heartbeat timer runs first.
    subscriber.holding = true
    vi.setSystemTime(Date.now() + defaults.staleness)
    await client.duplicate().publish(CHANNEL, `other m:User ${V}`)
    vi.advanceTimersToNextTimer() // the heartbeat timer, before the socket is read
    subscriber.holding = false
    subscriber.release() // the socket, read in the same turn
    await vi.advanceTimersByTimeAsync(0)
    expect(events).toEqual(['up'])
  })

  it('honours the staleness option: a tighter bound distrusts sooner, a looser one tolerates longer silence', async () => {
    const tight = await start({ staleness: 200 })
    const loose = await start({ staleness: 5000 })
    await vi.advanceTimersByTimeAsync(1000)
    await goDeaf(tight)
    await goDeaf(loose)
    await vi.advanceTimersByTimeAsync(200)
    expect(tight.events).toEqual(['up', 'quiet'])
    expect(loose.events).toEqual(['up'])
    await vi.advanceTimersByTimeAsync(1800)
    expect(loose.events).toEqual(['up'])
    await vi.advanceTimersByTimeAsync(3000)
    expect(loose.events).toEqual(['up', 'quiet'])
  })
})

describe('a subscription that closes', () => {
  it('drops state at once, and is trusted again once resubscribed', async () => {
    const { subscriber, events } = await start()
    subscriber.health = 'down'
    subscriber.emit('close')
    expect(events).toEqual(['up', 'down'])
    await vi.advanceTimersByTimeAsync(10_000) // while it is down, no quiet, no second down
    expect(events).toEqual(['up', 'down'])
    subscriber.health = 'up'
    subscriber.emit('ready')
    await vi.advanceTimersByTimeAsync(0)
    expect(events).toEqual(['up', 'down', 'up'])
  })
})

describe('messages', () => {
  it("passes on other instances' bumps and refused bumps, skips its own, and reports a malformed one", async () => {
    const { client, events, messages, errors } = await start()
    const other = client.duplicate()
    await other.publish(CHANNEL, `other m:User ${V} t:a ${V + 1}`)
    await other.publish(CHANNEL, `me m:User ${V + 2}`)
    await other.publish(CHANNEL, 'other ! m:Post t:b')
    await other.publish(CHANNEL, 'other m:Tag 1e300')
    await vi.advanceTimersByTimeAsync(0)
    expect(messages).toEqual([
      [
        ['m:User', 't:a'],
        [V, V + 1],
      ],
      [['m:Tag'], [1e300]], // still a change: passed on so the name is forgotten, never dropped
    ])
    expect(events).toEqual(['up', 'dirty m:Post t:b'])
    expect(errors.map((e) => e.message)).toEqual([expect.stringContaining('malformed bus message')])
  })
})

describe('close', () => {
  it('stops the heartbeat and the subscription', async () => {
    const { client, subscriber, bus } = await start()
    await bus.close()
    const published = client.server.published.length
    await vi.advanceTimersByTimeAsync(60_000)
    expect(client.server.published.length).toBe(published)
    expect(subscriber.disconnects).toEqual([false])
    expect(vi.getTimerCount()).toBe(0)
  })
})
