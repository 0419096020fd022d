import type { FastifyInstance } from 'fastify'
import { inTransaction } from '../../src/db/tx.js'
import { appendEntries, type AppendedEntry, type NewEntry } from '../../src/ledger/append.js'

let counter = 0

/** A valid ledger entry with overrides. */
export function entryInput(overrides: Partial<NewEntry> = {}): NewEntry {
  counter++
  return {
    kind: 'comment.version',
    subject: `comment-${counter}`,
    actor: 'platform:facebook',
    payload: { text: `Comment number ${counter} about the Washington Avenue repaving`, n: counter, 'ünïcode': 'café 🚲' },
    ...overrides,
  }
}

/** Appends `count` entries, one committed transaction each. */
export async function appendCommitted(app: FastifyInstance, count: number, overrides: Partial<NewEntry> = {}): Promise<AppendedEntry[]> {
  const out: AppendedEntry[] = []
  for (let i = 0; i < count; i++) {
    out.push(...(await inTransaction(app.db.prisma, (tx) => appendEntries(tx, [entryInput(overrides)]))))
  }
  return out
}

export async function sealNow(app: FastifyInstance) {
  const result = await app.ledger.sealer?.sealNow()
  if (!result) throw new Error('the sealer did not run (is it the active instance?)')
  return result
}
