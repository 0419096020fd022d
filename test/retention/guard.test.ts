// The database guard: content is destroyed only through dispose_records (docs/retention.md).
import t from 'tap'
import { deliverComments, DAY } from '../factories/retention.js'
import { testApp } from '../helpers/app.js'

t.test('neither the runtime role nor the owner can destroy content except through dispose_records', async (t) => {
  const { app, ownerPool } = await testApp(t)
  const [id] = await deliverComments(app, [{ n: 1, text: 'Guarded remark', at: new Date(Date.now() - DAY) }])
  const event = (await app.db.prisma.commentEvent.findFirst({ where: { commentId: id } }))!
  const pool = ownerPool()

  /** As the service's own runtime login role, or as the owner. */
  async function as(who: 'runtime' | 'owner', sql: string, params: unknown[] = []) {
    const client = await (who === 'runtime' ? app.db.pool : pool).connect()
    try {
      await client.query('BEGIN')
      // A custom setting the runtime role can set: it means nothing to the guard.
      await client.query(`SET LOCAL townsquare.disposal = 'on'`)
      await client.query(sql, params)
      await client.query('COMMIT')
    } catch (error) {
      await client.query('ROLLBACK')
      throw error
    } finally {
      client.release()
    }
  }

  for (const [sql, params] of [
    ['UPDATE ledger_entry SET payload = NULL WHERE id = $1', [event.ledgerEntryId]],
    ['UPDATE comment_event SET text = NULL WHERE id = $1', [event.id]],
    ['UPDATE webhook_delivery SET body = NULL WHERE id = $1', [event.deliveryId]],
    ['DELETE FROM ledger_entry WHERE id = $1', [event.ledgerEntryId]],
  ] as const) {
    await t.rejects(as('runtime', sql, [...params]), /permission denied/, `runtime: ${sql}`)
    await t.rejects(as('owner', sql, [...params]), /append-only/, `owner, directly: ${sql}`)
  }

  // The owner's own SECURITY DEFINER function is not dispose_records: still refused.
  await pool.query(`CREATE FUNCTION not_dispose_records(p uuid, q uuid) RETURNS void LANGUAGE plpgsql SECURITY DEFINER AS $$
    BEGIN UPDATE ledger_entry SET payload = NULL WHERE id = p; END $$`)
  await t.rejects(as('owner', 'SELECT not_dispose_records($1, $1)', [event.ledgerEntryId]), /append-only/, 'another definer function')

  // The runtime role may call dispose_records, which refuses anything but an approved disposal.
  await t.rejects(as('runtime', 'SELECT dispose_records($1, $1)', [event.ledgerEntryId]), /no disposal/, 'no such disposal')

  const row = await pool.query('SELECT e.payload IS NOT NULL AS payload, c.text FROM ledger_entry e, comment_event c WHERE e.id = $1 AND c.id = $2', [event.ledgerEntryId, event.id])
  t.same(row.rows[0], { payload: true, text: 'Guarded remark' }, 'nothing changed')
})
