// Holds the event loop until the Redis server has answered every command this process wrote to it before the call:
// a second process sends PING on a connection of its own and waits for PONG. Redis runs commands one at a time, in
// the order it reads them, and writes each reply before it reads on; a command this process wrote earlier was read
// first, so its reply has been written to this process's socket (on loopback, delivered) by the time PONG comes.
// For a test of what a reply that came in time does while the caller still holds the loop, whatever the machine's
// load: no wait of a fixed length stands for "Redis has answered by now".
import { execFileSync } from 'node:child_process'
import type { Redis } from 'ioredis'

const ping = `
const [host, port, password] = process.argv.slice(1)
const socket = require('node:net').connect(Number(port), host)
let got = ''
socket.on('connect', () => socket.write((password ? 'AUTH ' + JSON.stringify(password) + '\\r\\n' : '') + 'PING\\r\\n'))
socket.on('data', (data) => {
  got += data
  if (got.includes('+PONG\\r\\n')) process.exit(0)
  if (got.startsWith('-')) { console.error(got); process.exit(1) }
})
socket.on('error', (error) => { console.error(error.message); process.exit(2) })
`

/** Returns once the server `redis` talks to has answered what this process sent it so far (holding the loop). */
export function redisAnswered(redis: Redis): void {
  // ioredis's options hold `password: null` when the URL has none.
  const { host = '127.0.0.1', port = 6379 } = redis.options
  const password = redis.options.password ?? ''
  execFileSync(process.execPath, ['-e', ping, String(host), String(port), password], {
    timeout: 60_000,
    stdio: ['ignore', 'ignore', 'inherit'],
  })
}
