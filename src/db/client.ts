import { PrismaPg } from '@prisma/adapter-pg'
import pg from 'pg'
import { PrismaClient } from '../generated/prisma/client.js'

export interface Database {
  /** The pool shared by Prisma and raw SQL. */
  pool: pg.Pool
  prisma: PrismaClient
  close(): Promise<void>
}

export function createDatabase(url: string, options: { poolSize?: number } = {}): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    // A dead server must surface as 503 quickly instead of hanging requests.
    connectionTimeoutMillis: 5_000,
    application_name: 'townsquare',
  })
  // An idle client losing its connection (server restart) emits 'error' on the pool; without a
  // listener that would crash the process. The next query reconnects.
  pool.on('error', () => {})
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) })
  let closed = false
  return {
    pool,
    prisma,
    async close() {
      if (closed) return
      closed = true
      await prisma.$disconnect()
      await pool.end()
    },
  }
}
