// Comments for the records tests, ingested through the real signed website webhook, and
// decisions made through the real moderation route.
import type { FastifyInstance } from 'fastify'
import { deliver } from './webhooks.js'

export const SITE = 'https://www.citykankakee-il.gov'

export interface WebsiteEvent {
  /** The comment's id on the website. */
  id: string
  text?: string
  at: string
  type?: 'comment.created' | 'comment.edited' | 'comment.deleted'
  author?: { id: string; name?: string; email?: string }
  page?: string
  parentId?: string
}

let n = 0

/** Delivers website comment events in one signed delivery; throws unless it was accepted. */
export async function postWebsite(app: FastifyInstance, events: WebsiteEvent[]): Promise<void> {
  const body = {
    events: events.map((e) => ({
      id: `evt-${process.pid}-${++n}`,
      type: e.type ?? 'comment.created',
      commentId: e.id,
      pageUrl: e.page ?? `${SITE}/news/road-work`,
      author: e.author ?? { id: 'u-0', name: 'A Resident' },
      ...(e.text !== undefined ? { text: e.text } : {}),
      occurredAt: e.at,
      ...(e.parentId ? { parentId: e.parentId } : {}),
    })),
  }
  const res = await deliver(app, 'website', JSON.stringify(body))
  if (res.statusCode !== 200) throw new Error(`website delivery refused: ${res.statusCode} ${res.body}`)
}

/** The Townsquare id and current version of a comment, by its external id. */
export async function commentOf(app: FastifyInstance, externalId: string): Promise<{ id: string; versionId: string }> {
  const c = await app.db.prisma.comment.findFirstOrThrow({ where: { externalId } })
  const latest = await app.db.prisma.commentEvent.findFirstOrThrow({
    where: { commentId: c.id, kind: { in: ['created', 'edited'] } },
    orderBy: [{ platformTime: 'desc' }, { receivedAt: 'desc' }],
  })
  return { id: c.id, versionId: latest.id }
}

/** A decision through POST /v1/comments/:id/decisions; returns the route's answer. */
export async function decideOn(
  app: FastifyInstance,
  token: string,
  externalId: string,
  body: { action: 'remove' | 'hide' | 'approve' | 'restore'; ruleCodes?: string[]; note?: string },
): Promise<{ id: string; noticeText: string | null; ledgerEntryId: string }> {
  const { id, versionId } = await commentOf(app, externalId)
  const res = await app.inject({
    method: 'POST',
    url: `/v1/comments/${id}/decisions`,
    headers: { authorization: `Bearer ${token}` },
    payload: { ...body, versionId },
  })
  if (res.statusCode !== 201) throw new Error(`decision refused: ${res.statusCode} ${res.body}`)
  return res.json()
}

/** The appeal reference a notice gives its author (src/moderation/notices.ts puts it last). */
export function appealReferenceIn(noticeText: string | null): string {
  const found = /give your appeal reference: ([0-9A-Z]{5}-[0-9A-Z]{5})$/.exec(noticeText ?? '')
  if (!found) throw new Error(`no appeal reference in the notice: ${noticeText}`)
  return found[1]!
}
