// Retention counts from what the city controls (issue 24, item 6): the time Townsquare received a
// record, or the platform's time when that is later; never a platform time alone.
import t from 'tap'
import { adoptSchedules, call, DAY, deliverComments, manualClock } from '../factories/retention.js'
import { testApp } from '../helpers/app.js'

t.test('a comment delivered today with a platform time years ago is kept a full period from its receipt', async (t) => {
  const realNow = new Date()
  const clock = manualClock(new Date(realNow.getTime() - 800 * DAY))
  const { app, token } = await testApp(t, { clock })
  const clerk = token('records_clerk', 'clerk-a')
  await adoptSchedules(app, clerk, 365)

  // Received 800 days ago, posted (says the platform) 5 years before that: a backfill.
  const [backdated] = await deliverComments(app, [{ n: 1, text: 'An old comment, delivered late', at: new Date(clock().getTime() - 5 * 365 * DAY) }])
  // Received 800 days ago, posted (says the platform) 700 days in the future of its receipt: a clock error.
  const [future] = await deliverComments(app, [{ n: 2, text: 'A comment from a platform whose clock runs ahead', at: new Date(clock().getTime() + 700 * DAY) }])
  const eligibleIds = async () => (await call(app, clerk, 'GET', '/v1/retention/eligible')).json().items.map((r: { recordId: string }) => r.recordId) as string[]
  // The database's own check, as the runtime role calls it (and dispose_records runs it).
  const ledgerEligible = async (id: string) =>
    (await app.db.pool.query<{ ok: boolean }>(`SELECT retention_ledger_eligible($1, 'comment', ledger_now()) AS ok`, [id])).rows[0]!.ok

  t.same(await eligibleIds(), [], 'nothing is eligible the day it arrives, whatever time the platform gave')
  t.equal((await call(app, clerk, 'POST', '/v1/disposals', {})).statusCode, 409, 'and nothing can be listed for disposal')
  t.equal(await ledgerEligible(backdated!), false, 'the database agrees')

  await clock.set(new Date(realNow.getTime() - 800 * DAY + 300 * DAY))
  t.same(await eligibleIds(), [], '300 days after receipt: still within the 365 days')
  t.equal(await ledgerEligible(backdated!), false)

  await clock.set(new Date(realNow.getTime() - 800 * DAY + 366 * DAY))
  t.same(await eligibleIds(), [backdated], '366 days after receipt the backdated comment is eligible')
  t.equal(await ledgerEligible(backdated!), true)
  const eligible = (await call(app, clerk, 'GET', '/v1/retention/eligible')).json().items[0]
  t.equal(new Date(eligible.lastActivityAt).getTime(), realNow.getTime() - 800 * DAY, 'its last activity is its receipt, not its platform time')
  t.equal(await ledgerEligible(future!), false, 'a platform time later than the receipt counts: 366 days after receipt is only -334 after it')

  // 800 days after receipt, 100 days after the platform's time: the database must not let it go.
  await clock.set(realNow)
  t.same(await eligibleIds(), [backdated], 'the future-dated comment waits a full period from its platform time')
  t.equal(await ledgerEligible(future!), false, 'and the database does not let it go either')
})
