// The embedded PostgreSQL used when no DATABASE_URL is given: PGlite (PostgreSQL compiled to
// WebAssembly) keeping its data in a local directory, served over the wire protocol on a loopback
// port, so the migrator, Prisma, the sealer and graphile-worker use it exactly as they use a server.
// For evaluation and demos: one process, one backend (docs/operations.md, "Embedded PostgreSQL").
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { PGLiteSocketHandler } from '@electric-sql/pglite-socket'

export interface EmbeddedDatabase {
  /** postgresql:// URL of the loopback server. */
  url: string
  dataDir: string
  stop(): Promise<void>
}

interface Pending {
  handlerId: number
  message: Uint8Array
  onData: (data: Uint8Array) => void
  resolve: (bytes: number) => void
  reject: (error: unknown) => void
}

// Frontend message types (first byte) that end a request cycle: Sync ends an extended-protocol
// cycle (Parse/Bind/Describe/Execute), Query a simple one. A startup message has no type byte.
const SYNC = 0x53
const QUERY = 0x51
const TERMINATE = 0x58

/**
 * Every connection shares PGlite's one backend, so a connection must have it to itself for a whole
 * request cycle (from Parse to Sync: the unnamed statement and portal are per backend) and for a
 * whole transaction block. pglite-socket's own queue only guards transaction blocks; this one
 * gives the backend to one connection from its first message until a Sync or Query leaves no
 * transaction open. The effect is that transactions run one after another, which also makes the
 * sealer's horizon exact: no other transaction is ever running while it reads it.
 */
export class SessionQueue {
  private queue: Pending[] = []
  private owner: number | null = null
  private processing = false

  constructor(private readonly db: PGlite) {}

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queue.push({ handlerId, message, onData, resolve, reject })
      void this.process()
    })
  }

  private async process(): Promise<void> {
    if (this.processing) return
    this.processing = true
    try {
      for (;;) {
        const index = this.owner === null ? 0 : this.queue.findIndex((p) => p.handlerId === this.owner)
        if (index < 0 || this.queue.length === 0) return
        const next = this.queue.splice(index, 1)[0]!
        const type = next.message[0]
        // A client's Terminate must not reach the shared backend; its session simply ends.
        if (type === TERMINATE) {
          await this.endSession(next.handlerId)
          next.resolve(0)
          continue
        }
        this.owner = next.handlerId
        let bytes = 0
        try {
          await this.db.runExclusive(() =>
            this.db.execProtocolRawStream(next.message, {
              onRawData: (data) => {
                bytes += data.length
                next.onData(data)
              },
            }),
          )
        } catch (error) {
          await this.endSession(next.handlerId)
          next.reject(error)
          continue
        }
        // A startup message begins with its length, whose first byte is 0; typed messages begin with a letter.
        const startup = type === 0
        if ((type === SYNC || type === QUERY || startup) && !this.db.isInTransaction()) this.owner = null
        next.resolve(bytes)
      }
    } finally {
      this.processing = false
    }
  }

  /** A connection went away: roll back what it left open and give the backend to the others. */
  private async endSession(handlerId: number): Promise<void> {
    if (this.owner !== handlerId) return
    if (this.db.isInTransaction()) await this.db.exec('ROLLBACK').catch(() => {})
    this.owner = null
  }

  getQueueLength(): number {
    return this.queue.length
  }

  clearQueueForHandler(handlerId: number): void {
    this.queue = this.queue.filter((p) => {
      if (p.handlerId !== handlerId) return true
      p.reject(new Error('connection closed'))
      return false
    })
  }

  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    await this.endSession(handlerId)
    void this.process()
  }
}

const LOCK_FILE = 'townsquare-embedded.json'

interface LockInfo {
  pid: number
  /** Where this process serves the database, once it does. */
  url?: string
}

function readLock(dataDir: string): LockInfo | null {
  try {
    return JSON.parse(readFileSync(join(dataDir, LOCK_FILE), 'utf8')) as LockInfo
  } catch {
    return null
  }
}

/** The URL of a live process serving this data directory, if there is one. */
export function runningEmbeddedUrl(dataDir: string): string | null {
  const lock = readLock(dataDir)
  return lock?.url && lock.pid !== process.pid && isAlive(lock.pid) ? lock.url : null
}

/** Refuses a second process on the same data directory: two PGlite instances would corrupt it. */
function lockDataDir(dataDir: string): { publish(url: string): void; unlock(): void } {
  const path = join(dataDir, LOCK_FILE)
  for (let tries = 0; tries < 2; tries++) {
    try {
      writeFileSync(path, JSON.stringify({ pid: process.pid } satisfies LockInfo), { flag: 'wx', mode: 0o600 })
      return {
        publish: (url) => writeFileSync(path, JSON.stringify({ pid: process.pid, url } satisfies LockInfo), { mode: 0o600 }),
        unlock: () => rmSync(path, { force: true }),
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    const lock = readLock(dataDir)
    if (lock && isAlive(lock.pid)) {
      throw new Error(
        `the embedded database in ${dataDir} is in use by process ${lock.pid}; stop it first, or set DATABASE_URL to share a PostgreSQL server between processes`,
      )
    }
    rmSync(path, { force: true }) // left by a process that died
  }
  throw new Error(`cannot lock ${dataDir}`)
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Opens (creating on first use) the data directory and serves it on a free loopback port. */
export async function startEmbedded(dataDir: string): Promise<EmbeddedDatabase> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const lock = lockDataDir(dataDir)
  let db: PGlite
  try {
    db = await PGlite.create({ dataDir: join(dataDir, 'pgdata') })
  } catch (error) {
    lock.unlock()
    throw error
  }
  const queue = new SessionQueue(db)
  const handlers = new Set<PGLiteSocketHandler>()
  const server: Server = createServer((socket: Socket) => {
    // pglite-socket's handler does the wire framing; the queue above decides who runs when.
    const handler = new PGLiteSocketHandler({ queryQueue: queue as never, closeOnDetach: true })
    handlers.add(handler)
    handler.addEventListener('close', () => handlers.delete(handler))
    handler.addEventListener('error', () => handlers.delete(handler))
    handler.attach(socket).catch(() => socket.destroy())
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  const url = `postgresql://postgres@127.0.0.1:${port}/postgres`
  // Other commands (db:seed, ledger:export) connect to this process instead of opening the directory.
  lock.publish(url)
  let stopped = false
  return {
    url,
    dataDir,
    async stop() {
      if (stopped) return
      stopped = true
      for (const handler of handlers) await handler.detach(true)
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await db.close()
      lock.unlock()
    },
  }
}

/**
 * For commands run beside the service: the running service's embedded database when there is one,
 * else the data directory opened in this process until `stop`.
 */
export async function openEmbedded(dataDir: string): Promise<EmbeddedDatabase> {
  const running = runningEmbeddedUrl(dataDir)
  if (running) return { url: running, dataDir, stop: async () => {} }
  return startEmbedded(dataDir)
}
