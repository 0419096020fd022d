import type { PrismaClient } from '../../src/generated/prisma/client.js'
import { holidayCalendar } from '../../src/foia/business-days.js'
import { createRequest } from '../../src/foia/requests.js'
import { inTransaction } from '../../src/db/tx.js'
import { systemClock } from '../../src/ledger/append.js'

/** A FOIA request through the domain function, for benchmarks. */
export function createFoiaRequestForBench(prisma: PrismaClient, description: string): Promise<string> {
  return inTransaction(prisma, (tx) =>
    createRequest(tx, { requester: { name: 'Benchmark' }, receivedOn: '2026-11-16', description, commercial: false }, 'user:bench', {
      clock: systemClock,
      calendar: holidayCalendar(),
    }),
  )
}
