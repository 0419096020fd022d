import type { Prisma, PrismaClient } from '../generated/prisma/client.js'

/** What domain functions receive: the client of an open transaction. */
export type Tx = Prisma.TransactionClient

/**
 * Runs `work` in one transaction: committed when it returns, rolled back when it throws.
 * Nothing a caller acknowledges may happen before this resolves (principle 4).
 */
export function inTransaction<T>(prisma: PrismaClient, work: (tx: Tx) => Promise<T>): Promise<T> {
  return prisma.$transaction(work, { maxWait: 5_000, timeout: 30_000 })
}
