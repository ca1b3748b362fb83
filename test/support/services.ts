// Where integration tests get Redis, PostgreSQL and MySQL/MariaDB. Order (docs/design.md, "Toolchain facts"):
//   1. an explicit URL (REDIS_URL, DATABASE_URL, MYSQL_URL): CI and anyone with their own servers;
//   2. Testcontainers, when a container runtime answers: how most contributors will run these tests;
//   3. throwaway servers started from local binaries on free ports: machines without a container runtime;
//   4. otherwise an Error saying what to install or set. A test that needs a service never skips silently.
// Each answer is memoized per process. test/support/global-setup.ts resolves both once per vitest run and hands the
// URLs to the workers through the environment, so forked workers share one set of servers.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { chownSync, closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { connect, createServer } from 'node:net'
import { homedir, tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import pg from 'pg'

export interface LocalServer {
  url: string
  port: number
  pid: number
  stop(): Promise<void>
}

export interface PostgresServer extends LocalServer {
  /**
   * A fast shutdown (SIGINT, as `pg_ctl restart` does: clients are disconnected and a shutdown checkpoint makes
   * every commit durable), then the same cluster started again on the same port.
   */
  restart(): Promise<void>
}

const log = (message: string) => process.stderr.write(`[test services] ${message}\n`)

let redis: Promise<string> | undefined
let postgres: Promise<string> | undefined
let mysql: Promise<string> | undefined

/** A Redis URL for tests. Tests share it, so each one uses its own key prefix and never FLUSHALLs. */
export function redisUrl(): Promise<string> {
  redis ??= resolve('REDIS_URL', 'Redis', startRedisContainer, async () => (await startRedisServer()).url, [
    'set REDIS_URL (for example redis://127.0.0.1:6379)',
    'or start Docker/Podman so Testcontainers can run redis:7.4-alpine',
    'or install redis-server (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis)',
  ])
  return redis
}

/** A PostgreSQL server URL whose user may CREATE DATABASE; prisma/database.ts makes one database per test. */
export function postgresUrl(): Promise<string> {
  postgres ??= resolve(
    'DATABASE_URL',
    'PostgreSQL',
    startPostgresContainer,
    async () => (await startPostgresServer()).url,
    [
      'set DATABASE_URL to a server URL whose user may create databases (for example postgresql://postgres@127.0.0.1:5432/postgres)',
      'or start Docker/Podman so Testcontainers can run postgres:17-alpine',
      'or install the PostgreSQL server (Debian/Ubuntu: apt-get install postgresql; initdb and postgres must be on PATH or under /usr/lib/postgresql/*/bin)',
    ],
  )
  return postgres
}

/**
 * A MySQL/MariaDB server URL whose user may CREATE DATABASE (prisma/database.ts makes one database per test).
 * Between MYSQL_URL and Testcontainers: a server already answering on 127.0.0.1:3306 as root without a password.
 */
export function mysqlUrl(): Promise<string> {
  mysql ??= resolve(
    'MYSQL_URL',
    'MySQL/MariaDB',
    startMariadbContainer,
    async () => (await startMariadbServer()).url,
    [
      'set MYSQL_URL to a server URL whose user may create databases (for example mysql://root@127.0.0.1:3306/mysql)',
      'or run MariaDB/MySQL on 127.0.0.1:3306 with a passwordless root',
      'or start Docker/Podman so Testcontainers can run mariadb:11.4',
      'or install the MariaDB server (Debian/Ubuntu: apt-get install mariadb-server; mariadbd and mariadb-install-db must be on PATH or in /usr/sbin, /usr/bin)',
    ],
    defaultMysql,
  )
  return mysql
}

const defaultMysqlUrl = 'mysql://root@127.0.0.1:3306/mysql'
async function defaultMysql(): Promise<string | undefined> {
  return (await mysqlAnswers(defaultMysqlUrl)) ? defaultMysqlUrl : undefined
}

async function mysqlAnswers(url: string): Promise<boolean> {
  const { PrismaMariaDb } = await import('@prisma/adapter-mariadb')
  const u = new URL(url)
  if (!(await tcpAnswers(u.hostname, Number(u.port || 3306)))) return false
  try {
    const adapter = await new PrismaMariaDb(`${url}${u.search ? '&' : '?'}connectTimeout=1000`).connect()
    try {
      await adapter.queryRaw({ sql: 'SELECT 1', args: [], argTypes: [] } as never)
      return true
    } finally {
      await adapter.dispose()
    }
  } catch {
    return false
  }
}

async function resolve(
  envName: string,
  service: string,
  container: () => Promise<string>,
  local: () => Promise<string>,
  remedies: string[],
  usual?: () => Promise<string | undefined>,
): Promise<string> {
  const explicit = process.env[envName]
  if (explicit) return explicit
  const failures: string[] = []
  const found = await usual?.()
  if (found) {
    log(`${service}: the server at ${found} (set ${envName} to use another)`)
    return found
  }
  if (usual) failures.push('nothing answered at the usual address')
  const runtime = await containerRuntime()
  if (runtime) {
    try {
      const url = await container()
      log(`${service}: Testcontainers at ${url} (runtime ${runtime}; set ${envName} to use your own server)`)
      return url
    } catch (error) {
      // A runtime that answers but cannot start the image (offline, no pull rights) should not hide local binaries.
      failures.push(`Testcontainers via ${runtime} failed: ${(error as Error).message}`)
      log(`${service}: ${failures.at(-1)}; trying local binaries`)
    }
  } else {
    failures.push('no container runtime answered (DOCKER_HOST or the usual docker/podman sockets)')
  }
  try {
    const url = await local()
    log(`${service}: throwaway local server at ${url} (set ${envName} to use your own server)`)
    return url
  } catch (error) {
    failures.push((error as Error).message)
  }
  throw new Error(
    `No ${service} server for the integration tests: ${remedies.join(', ')}.\nTried: ${failures.join('; ')}`,
  )
}

// ---------------------------------------------------------------------------------------------------------------
// Testcontainers. Imported lazily: it is heavy, and most machines running these tests through CI never need it.

/** The container runtime endpoint that answers a ping, if any. Kept short: it runs before every local fallback. */
async function containerRuntime(): Promise<string | undefined> {
  const host = process.env.DOCKER_HOST
  if (host && !host.startsWith('unix://')) {
    // tcp:// (possibly TLS): a successful TCP connect is as far as we can check without certificates.
    const url = new URL(host.replace(/^tcp:/, 'http:'))
    return (await tcpAnswers(url.hostname, Number(url.port || 2375))) ? host : undefined
  }
  const xdg = process.env.XDG_RUNTIME_DIR
  const sockets = host
    ? [host.slice('unix://'.length)]
    : [
        '/var/run/docker.sock',
        join(homedir(), '.docker/run/docker.sock'),
        join(homedir(), '.docker/desktop/docker.sock'),
        join(homedir(), '.colima/default/docker.sock'),
        join(homedir(), '.rd/docker.sock'),
        ...(xdg ? [join(xdg, 'docker.sock'), join(xdg, 'podman/podman.sock')] : []),
        '/run/podman/podman.sock',
      ]
  for (const socketPath of sockets) {
    if (existsSync(socketPath) && (await pingSocket(socketPath))) return `unix://${socketPath}`
  }
  return undefined
}

function pingSocket(socketPath: string): Promise<boolean> {
  return new Promise((done) => {
    const req = request({ socketPath, path: '/_ping', timeout: 1500 }, (res) => {
      res.resume()
      done(res.statusCode === 200)
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => done(false))
    req.end()
  })
}

function tcpAnswers(host: string, port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host, port, timeout: 1500 }, () => {
      socket.destroy()
      done(true)
    })
    socket.on('timeout', () => socket.destroy())
    socket.on('error', () => done(false))
    socket.on('close', () => done(false))
  })
}

// Started containers are reaped by Testcontainers' Ryuk when this process ends; stopAll() stops them earlier.
const containers: { stop(): Promise<unknown> }[] = []

async function startRedisContainer(): Promise<string> {
  const { RedisContainer } = await import('@testcontainers/redis')
  const container = await new RedisContainer('redis:7.4-alpine').start()
  containers.push(container)
  return container.getConnectionUrl()
}

async function startPostgresContainer(): Promise<string> {
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql')
  const container = await new PostgreSqlContainer('postgres:17-alpine').start()
  containers.push(container)
  return container.getConnectionUri()
}

async function startMariadbContainer(): Promise<string> {
  const { MariaDbContainer } = await import('@testcontainers/mariadb')
  const container = await new MariaDbContainer('mariadb:11.4').withRootPassword('strata').start()
  containers.push(container)
  return `mysql://root:strata@${container.getHost()}:${container.getPort()}/mysql`
}

// ---------------------------------------------------------------------------------------------------------------
// Throwaway servers from local binaries.

interface Running {
  child: ChildProcess
  dir: string
  /** SIGTERM for Redis; SIGQUIT (immediate shutdown) for PostgreSQL, which must not be SIGKILLed (it leaks IPC). */
  exitSignal: NodeJS.Signals
  stop(): Promise<void>
  /** Ends the process with `signal` and waits for it to exit, keeping its directory (to start it again). */
  halt(signal: NodeJS.Signals): Promise<void>
}
const running = new Set<Running>()

/** Stops every server and container this process started. Called by global teardown; exit is the safety net. */
export async function stopAll(): Promise<void> {
  await Promise.allSettled([...[...running].map((r) => r.stop()), ...containers.splice(0).map((c) => c.stop())])
}

// 'exit' handlers cannot await: signal the servers, give PostgreSQL and MariaDB a moment to remove their pid files,
// then clean up.
process.once('exit', () => {
  for (const r of running) r.child.kill(r.exitSignal)
  const deadline = Date.now() + 3000
  for (const r of running) {
    const pidFiles = [join(r.dir, 'data', 'postmaster.pid'), join(r.dir, 'mysqld.pid')]
    while (pidFiles.some((f) => existsSync(f)) && Date.now() < deadline) sleepSync(20)
    rmSync(r.dir, { recursive: true, force: true })
  }
})

function sleepSync(ms: number) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

function which(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter)].filter(Boolean)
  return dirs.map((dir) => join(dir, name)).find((path) => existsSync(path))
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer()
    server.once('error', fail)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => done(port))
    })
  })
}

/**
 * Spawns a server in the foreground (so it shares our process group: Ctrl-C reaches it too) with its output in a log
 * file (a pipe nobody reads would block it). `setpriv --pdeathsig` makes the kernel signal it if we die without
 * running exit handlers (SIGKILL, OOM): a crashed test run leaves a temp dir behind, never a running server.
 */
function spawnServer(
  command: string,
  args: string[],
  dir: string,
  exitSignal: NodeJS.Signals,
  user?: { uid: number; gid: number },
): { child: ChildProcess; logFile: string } {
  const logFile = join(dir, 'server.log')
  const out = openSync(logFile, 'a')
  const setpriv = which('setpriv')
  const [file, argv] = setpriv
    ? [setpriv, ['--pdeathsig', exitSignal.replace(/^SIG/, ''), '--', command, ...args]]
    : [command, args]
  // cwd: the server may run as another user, who must be able to resolve its working directory.
  const child = spawn(file, argv, { cwd: dir, stdio: ['ignore', out, out], ...user })
  closeSync(out)
  child.unref()
  return { child, logFile }
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-15).join('\n')
  } catch {
    return '(no log)'
  }
}

/** Polls `ready` until it resolves true, the child exits, or the time is up. */
async function waitUntil(
  what: string,
  child: ChildProcess,
  logFile: string,
  ready: () => Promise<boolean>,
  ms: number,
): Promise<void> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}) before answering:\n${tail(logFile)}`)
    }
    if (await ready()) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`${what} did not answer within ${ms} ms:\n${tail(logFile)}`)
}

function track(child: ChildProcess, dir: string, exitSignal: NodeJS.Signals): Running {
  const exited = new Promise<void>((r) => {
    if (child.exitCode !== null || child.signalCode !== null) r()
    else child.once('exit', () => r())
  })
  const entry: Running = {
    child,
    dir,
    exitSignal,
    async stop() {
      if (!running.delete(entry)) return
      child.kill(exitSignal)
      const killed = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(killed)
      rmSync(dir, { recursive: true, force: true })
    },
    async halt(signal) {
      running.delete(entry)
      child.kill(signal)
      await exited
    },
  }
  running.add(entry)
  return entry
}

/**
 * A private redis-server on a free port that keeps nothing on disk, for tests that need their own server (killing,
 * pausing, filling or flushing it). `args` come last, so they override ours; pass `['--port', n]` to restart on a
 * known port.
 */
export async function startRedisServer(opts: { args?: string[] } = {}): Promise<LocalServer> {
  const bin = which('redis-server')
  if (!bin) throw new Error('redis-server is not on PATH (Debian/Ubuntu: apt-get install redis-server)')
  const extra = opts.args ?? []
  const portArg = extra.indexOf('--port')
  // A free port can be taken by another test run's server between our probe and its bind: then ours exits and
  // theirs would answer (once, a replica of theirs, so this run's writes failed READONLY). A server is ours only if
  // it reports our child's process id; on a port we picked, a taken one is tried again with another.
  for (let attempt = 1; ; attempt++) {
    const port = portArg >= 0 ? Number(extra[portArg + 1]) : await freePort()
    const dir = mkdtempSync(join(tmpdir(), 'strata-redis-'))
    const nothingOnDisk = ['--save', '', '--appendonly', 'no', '--dir', dir]
    const args = ['--port', String(port), '--bind', '127.0.0.1', ...nothingOnDisk, ...extra]
    const { child, logFile } = spawnServer(bin, args, dir, 'SIGTERM')
    const server = track(child, dir, 'SIGTERM')
    try {
      await waitUntil(`redis-server on port ${port}`, child, logFile, () => redisOf(port, child.pid), 10_000)
      return { url: `redis://127.0.0.1:${port}`, port, pid: child.pid as number, stop: () => server.stop() }
    } catch (error) {
      await server.stop()
      if (portArg >= 0 || attempt >= 3) throw error
    }
  }
}

/** Whether the Redis server on `port` is the process `pid` (`INFO server` says which process answers). */
function redisOf(port: number, pid: number | undefined): Promise<boolean> {
  return new Promise((done) => {
    let text = ''
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write('INFO server\r\n'))
    socket.setTimeout(1000, () => socket.destroy())
    socket.on('data', (data) => {
      text += data.toString()
      const id = /process_id:(\d+)/.exec(text)
      if (!id) return
      socket.destroy()
      done(Number(id[1]) === pid)
    })
    socket.on('error', () => done(false))
    socket.on('close', () => done(false))
  })
}

/** initdb/postgres: on PATH (Homebrew, Arch, Fedora) or Debian's versioned directories, newest first. */
function postgresBinDir(): string | undefined {
  const onPath = which('initdb')
  if (onPath && existsSync(join(onPath, '..', 'postgres'))) return join(onPath, '..')
  const root = '/usr/lib/postgresql'
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : []
  return versions.map((v) => join(root, v, 'bin')).find((dir) => existsSync(join(dir, 'initdb')))
}

/** PostgreSQL and MariaDB refuse to run as root; CI runs as root, so a server runs as its own (or `nobody`) user. */
function serverUser(names = ['postgres', 'nobody']): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined
  for (const name of names) {
    try {
      const id = (flag: string) => Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim())
      return { uid: id('-u'), gid: id('-g') }
    } catch {}
  }
  throw new Error(`running as root and none of the users ${names.join(', ')} exists to run the server`)
}

/**
 * A private PostgreSQL cluster on a free port in a temp dir, trust auth, superuser `postgres`, durability off.
 * `settings`: more server settings (`wal_level=logical`), after ours.
 */
export async function startPostgresServer(opts: { settings?: string[] } = {}): Promise<PostgresServer> {
  const bin = postgresBinDir()
  if (!bin) {
    throw new Error(
      'initdb/postgres not found on PATH or under /usr/lib/postgresql/*/bin (Debian/Ubuntu: apt-get install postgresql)',
    )
  }
  const user = serverUser()
  const dir = mkdtempSync(join(tmpdir(), 'strata-pg-'))
  if (user) chownSync(dir, user.uid, user.gid)
  const data = join(dir, 'data')
  try {
    execFileSync(
      join(bin, 'initdb'),
      ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'],
      { cwd: dir, stdio: 'pipe', ...user },
    )
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    const output = (error as { stderr?: Buffer }).stderr?.toString().trim()
    throw new Error(`initdb failed: ${output || (error as Error).message}`)
  }
  const port = await freePort()
  const settings = ['listen_addresses=127.0.0.1', 'fsync=off', 'synchronous_commit=off', 'full_page_writes=off']
  settings.push(...(opts.settings ?? []))
  const args = ['-D', data, '-p', String(port), '-k', dir, ...settings.flatMap((s) => ['-c', s])]
  const url = `postgresql://postgres@127.0.0.1:${port}/postgres`
  const answers = async () => {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 })
    try {
      await client.connect()
      // Ours, not another test run's server that took the port first (see startRedisServer).
      const { rows } = await client.query('SHOW data_directory')
      return rows[0]?.data_directory === data
    } catch {
      return false
    } finally {
      await client.end().catch(() => {})
    }
  }
  const launch = async () => {
    const { child, logFile } = spawnServer(join(bin, 'postgres'), args, dir, 'SIGQUIT', user)
    const server = track(child, dir, 'SIGQUIT')
    try {
      await waitUntil(`postgres on port ${port}`, child, logFile, answers, 30_000)
    } catch (error) {
      await server.stop()
      throw error
    }
    return { child, server }
  }
  let current = await launch()
  return {
    url,
    port,
    pid: current.child.pid as number,
    stop: () => current.server.stop(),
    async restart() {
      await current.server.halt('SIGINT')
      current = await launch()
    },
  }
}

/** mariadbd/mariadb-install-db (or the mysqld names of older packages): on PATH or where Debian puts them. */
function mariadbBinaries(): { server: string; installDb: string } | undefined {
  const find = (names: string[]) =>
    names.flatMap((n) => [which(n), `/usr/sbin/${n}`, `/usr/bin/${n}`]).find((p): p is string => !!p && existsSync(p))
  const server = find(['mariadbd', 'mysqld'])
  const installDb = find(['mariadb-install-db', 'mysql_install_db'])
  return server && installDb ? { server, installDb } : undefined
}

/**
 * A private MariaDB server on a free port in a temp dir, passwordless root, durability off. As root it runs as the
 * `mysql` (or `nobody`) user.
 */
export async function startMariadbServer(): Promise<LocalServer> {
  const bins = mariadbBinaries()
  if (!bins) throw new Error('mariadbd/mariadb-install-db not found on PATH or in /usr/sbin, /usr/bin')
  const user = serverUser(['mysql', 'nobody'])
  const dir = mkdtempSync(join(tmpdir(), 'strata-mariadb-'))
  if (user) chownSync(dir, user.uid, user.gid)
  const data = join(dir, 'data')
  const common = ['--no-defaults', `--datadir=${data}`]
  try {
    execFileSync(bins.installDb, [...common, '--auth-root-authentication-method=normal', '--skip-test-db'], {
      cwd: dir,
      stdio: 'pipe',
      ...user,
    })
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    const output = (error as { stderr?: Buffer }).stderr?.toString().trim()
    throw new Error(`mariadb-install-db failed: ${output || (error as Error).message}`)
  }
  const port = await freePort()
  const args = [
    ...common,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    `--socket=${join(dir, 'mysqld.sock')}`,
    `--pid-file=${join(dir, 'mysqld.pid')}`,
    '--innodb-flush-log-at-trx-commit=0',
    '--innodb-doublewrite=0',
    '--skip-log-bin',
  ]
  const { child, logFile } = spawnServer(bins.server, args, dir, 'SIGTERM', user)
  const server = track(child, dir, 'SIGTERM')
  const url = `mysql://root@127.0.0.1:${port}/mysql`
  try {
    await waitUntil(`mariadbd on port ${port}`, child, logFile, () => mysqlAnswers(url), 60_000)
  } catch (error) {
    await server.stop()
    throw error
  }
  return { url, port, pid: child.pid as number, stop: () => server.stop() }
}
