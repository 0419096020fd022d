// The auditor's pages: the ledger's state and a verification run, the access log and its CSV.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { accessFrom, listAccess, loggedRead, toAccessView } from '../../audit/access-log.js'
import { csvLine } from '../../foia/production-files.js'
import { latestCheckpoint } from '../../ledger/proofs.js'
import { verifyLedger } from '../../ledger/verify.js'
import type { Role } from '../../plugins/auth.js'
import { sendPage, viewerOf } from '../plugin.js'
import { AccessLogPage, LedgerPage, type LedgerState } from './views.js'

const LEDGER_READERS: readonly Role[] = ['auditor', 'records_clerk']
const AUDITORS: readonly Role[] = ['auditor']
const PAGE_SIZE = 100
const CSV_LIMIT = 10_000

const text = (value: unknown) => (typeof value === 'string' ? value.trim() : '')
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/

/** A typed YYYY-MM-DD as the instant its UTC day starts, or null when it is not a real date. */
function dayStart(value: string): Date | null {
  const m = DATE.exec(value)
  if (!m) return null
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])))
  return d.toISOString().slice(0, 10) === value ? d : null
}

export async function auditPages(app: FastifyInstance): Promise<void> {
  const prisma = app.db.prisma

  async function ledgerState(): Promise<LedgerState> {
    const cp = await latestCheckpoint(app.db.pool)
    return {
      checkpoint: cp ? { treeSize: cp.treeSize, issuedAt: cp.issuedAt, keyName: cp.keyName, rootHashHex: cp.rootHash.toString('hex'), signedNote: cp.signedNote } : null,
      now: app.clock(),
      maxAgeMs: app.config.ledger.maxCheckpointAgeMs,
    }
  }

  app.get('/console/ledger', { config: { access: 'public', page: LEDGER_READERS }, schema: { hide: true } }, async (request, reply) =>
    sendPage(reply, LedgerPage({ viewer: viewerOf(request)!, state: await ledgerState(), report: null })),
  )

  app.post('/console/ledger/verify', { config: { access: 'public', page: LEDGER_READERS }, schema: { hide: true } }, async (request, reply) => {
    const report = await verifyLedger(app.db.pool, { trustedKeyIds: [app.ledger.signingKey.keyId] })
    request.log.info({ ok: report.ok, treeSize: report.treeSize, by: request.consoleSession!.subject }, 'ledger verified from the console')
    return sendPage(reply, LedgerPage({ viewer: viewerOf(request)!, state: await ledgerState(), report }))
  })

  /** The filter as typed, the problems with it, and the domain's filter when there are none. */
  function readFilter(request: FastifyRequest) {
    const q = request.query as Record<string, unknown>
    const typed = { actor: text(q.actor).slice(0, 200), action: text(q.action).slice(0, 100), from: text(q.from), to: text(q.to) }
    const errors: Array<{ field: string; message: string }> = []
    const from = typed.from ? dayStart(typed.from) : null
    const toDay = typed.to ? dayStart(typed.to) : null
    if (typed.from && !from) errors.push({ field: 'from', message: 'Enter the first day as YYYY-MM-DD, for example 2026-12-01' })
    if (typed.to && !toDay) errors.push({ field: 'to', message: 'Enter the last day as YYYY-MM-DD, for example 2026-12-07' })
    const to = toDay ? new Date(toDay.getTime() + 86_400_000) : null
    if (from && to && from >= to) errors.push({ field: 'to', message: 'The last day must not be before the first' })
    const filter = {
      ...(typed.actor ? { actor: typed.actor } : {}),
      ...(typed.action ? { action: typed.action } : {}),
      ...(from ? { from: from.toISOString() } : {}),
      ...(to ? { to: to.toISOString() } : {}),
    }
    return { typed, errors, filter }
  }

  app.get('/console/access-log', { config: { access: 'public', page: AUDITORS }, schema: { hide: true } }, async (request, reply) => {
    const { typed, errors, filter } = readFilter(request)
    const before = text((request.query as Record<string, unknown>).before)
    const afterSeq = /^\d{1,19}$/.test(before) ? BigInt(before) : undefined
    const page = errors.length
      ? { items: [], next: null }
      : await loggedRead(prisma, accessFrom(request, 'audit.access', { ...typed, console: true }, app.clock()), async (tx) => {
          const found = await listAccess(tx, filter, { limit: PAGE_SIZE, afterSeq })
          return { value: found, recordIds: found.items.map((e) => e.id) }
        })
    const params = new URLSearchParams(Object.entries(typed).filter(([, v]) => v !== ''))
    return sendPage(
      reply,
      AccessLogPage({
        viewer: viewerOf(request)!,
        rows: page.items.map((e) => ({ at: e.at, actor: e.actor, roles: e.roles, action: e.action, route: e.route, count: e.count })),
        filter: typed,
        errors,
        nextHref: page.next === null ? null : `/console/access-log?${new URLSearchParams([...params, ['before', page.next.toString()]]).toString()}`,
        csvHref: `/console/access-log.csv?${params.toString()}`,
      }),
      errors.length ? 400 : 200,
    )
  })

  app.get('/console/access-log.csv', { config: { access: 'public', page: AUDITORS }, schema: { hide: true } }, async (request, reply) => {
    const { errors, filter, typed } = readFilter(request)
    if (errors.length) return reply.redirect(`/console/access-log?${new URLSearchParams(Object.entries(typed)).toString()}`, 303)
    const page = await loggedRead(prisma, accessFrom(request, 'audit.access', { ...typed, console: true, format: 'csv' }, app.clock()), async (tx) => {
      const found = await listAccess(tx, filter, { limit: CSV_LIMIT })
      return { value: found, recordIds: found.items.map((e) => e.id) }
    })
    let body = csvLine(['id', 'at', 'actor', 'roles', 'action', 'route', 'count', 'record_ids', 'request_id'])
    for (const e of page.items.map(toAccessView)) body += csvLine([e.id, e.at, e.actor, e.roles.join(' '), e.action, e.route, String(e.count), e.recordIds.join(' '), e.requestId ?? ''])
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', 'attachment; filename="access-log.csv"')
      .header('cache-control', 'no-store')
      .header('x-truncated', page.next === null ? 'false' : 'true')
      .send(body)
  })
}
