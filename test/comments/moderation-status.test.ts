import t from 'tap'
import { ModerationStatus } from '../../src/comments/schemas.js'
import { testApp } from '../helpers/app.js'
import { deliver, metaChanges } from '../factories/webhooks.js'

t.test('the database holds only the moderation statuses the API can show', async (t) => {
  const { app } = await testApp(t)
  t.equal((await deliver(app, 'meta', metaChanges([{ id: 'status-1' }]))).statusCode, 200)
  const comment = await app.db.prisma.comment.findFirstOrThrow({ where: { externalId: { endsWith: 'status-1' } } })

  await t.rejects(
    app.db.pool.query(`UPDATE comment SET moderation_status = 'banned' WHERE id = $1::uuid`, [comment.id]),
    /comment_moderation_status_is_known/,
    'an unknown status is refused, whoever writes it',
  )
  t.equal((await app.db.prisma.comment.findUniqueOrThrow({ where: { id: comment.id } })).moderationStatus, comment.moderationStatus, 'the comment is unchanged')

  const [check] = await app.db.prisma.$queryRaw<Array<{ def: string; convalidated: boolean }>>`
    SELECT pg_get_constraintdef(oid) AS def, convalidated FROM pg_constraint WHERE conname = 'comment_moderation_status_is_known'`
  t.equal(check?.convalidated, true, 'the comments stored before the check were checked too')
  const allowed = [...check!.def.matchAll(/'([a-z_]+)'/g)].map((m) => m[1]).sort()
  t.same(allowed, [...ModerationStatus.options].sort(), 'the constraint and the API list the same statuses')
})
