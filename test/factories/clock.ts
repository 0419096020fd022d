// The one manual clock of the tests: it moves the service's clock and the database's together.
// The database stamps every ledger entry (ledger_now(), migration 20261207190000) and checks
// disposal times with its own clock, so a test that travels in time must move both.
import type pg from 'pg'

export interface ManualClock {
  (): Date
  /** Moves both clocks (the database's once the clock is attached to a test database). */
  set(at: Date): Promise<void>
  /** Called by testApp before the app starts: from now on the database's clock is this one. */
  attach(owner: pg.Pool): Promise<void>
}

export function manualClock(start: Date): ManualClock {
  let now = start
  let owner: pg.Pool | null = null
  const clock = () => now
  return Object.assign(clock, {
    async set(at: Date) {
      now = at
      if (owner) await setDatabaseClock(owner, at)
    },
    async attach(pool: pg.Pool) {
      owner = pool
      await setDatabaseClock(pool, now)
    },
  })
}

export function isManualClock(clock: unknown): clock is ManualClock {
  return typeof clock === 'function' && typeof (clock as Partial<ManualClock>).attach === 'function'
}

/**
 * Pins the database's clock to `at` (null: the real clock again). Only the owner can: the function
 * belongs to it, and the runtime role may only call it.
 */
export async function setDatabaseClock(owner: Pick<pg.Pool, 'query'>, at: Date | null): Promise<void> {
  const body = at ? `SELECT '${at.toISOString()}'::timestamptz` : `SELECT date_trunc('milliseconds', clock_timestamp())`
  await owner.query(`CREATE OR REPLACE FUNCTION ledger_now() RETURNS timestamptz LANGUAGE sql VOLATILE AS $$ ${body} $$`)
}
