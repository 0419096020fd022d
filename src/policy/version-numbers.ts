import type { Tx } from '../db/tx.js'
import type { PrismaClient } from '../generated/prisma/client.js'

/**
 * The number of each policy version id ("version 3"), for responses that cite a version: people
 * quote the number, the id is what the ledger links. Numbers never change once a version exists.
 */
export async function versionNumbers(db: Tx | PrismaClient, ids: ReadonlyArray<string | null>): Promise<Map<string, number>> {
  const wanted = [...new Set(ids.filter((id): id is string => id !== null))]
  if (wanted.length === 0) return new Map()
  const rows = await db.policyVersion.findMany({ where: { id: { in: wanted } }, select: { id: true, version: true } })
  return new Map(rows.map((r) => [r.id, r.version]))
}

/** The number of one id from versionNumbers' map (null for no version). */
export function numberOf(numbers: ReadonlyMap<string, number>, id: string | null): number | null {
  return id === null ? null : (numbers.get(id) ?? null)
}
