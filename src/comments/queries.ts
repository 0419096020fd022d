import type { Comment, CommentEvent, Prisma, PrismaClient } from '../generated/prisma/client.js'
import type { z } from 'zod'
import type { Tx } from '../db/tx.js'
import type * as S from './schemas.js'

type Summary = z.infer<typeof S.CommentSummary>

export function toSummary(c: Comment): Summary {
  return {
    id: c.id,
    platform: c.platform as Summary['platform'],
    account: c.account,
    externalId: c.externalId,
    postId: c.postId,
    parentId: c.parentId,
    parentExternalId: c.parentExternalId,
    author: { id: c.authorId, name: c.authorName },
    byCity: c.byCity,
    status: c.status as Summary['status'],
    moderationStatus: c.moderationStatus as Summary['moderationStatus'],
    text: c.currentText,
    versionCount: c.versionCount,
    firstPlatformAt: c.firstPlatformAt.toISOString(),
    lastPlatformAt: c.lastPlatformAt.toISOString(),
    disposedAt: c.disposedAt?.toISOString() ?? null,
    disposalId: c.disposalId,
  }
}

export function toEvent(e: CommentEvent) {
  return {
    id: e.id,
    kind: e.kind as z.infer<typeof S.CommentEvent>['kind'],
    platformTime: e.platformTime.toISOString(),
    receivedAt: e.receivedAt.toISOString(),
    text: e.text,
    deliveryId: e.deliveryId,
    ledgerEntryId: e.ledgerEntryId,
  }
}

export interface CommentFilter {
  platform?: string
  account?: string
  postId?: string
  authorId?: string
  status?: string
  byCity?: boolean
  from?: string
  to?: string
}

/** Newest first by arrival (seq), which new comments never reorder: pages stay stable. */
export async function listComments(prisma: Tx | PrismaClient, filter: CommentFilter, page: { limit: number; afterSeq?: bigint }) {
  const where: Prisma.CommentWhereInput = {
    ...(filter.platform ? { platform: filter.platform } : {}),
    ...(filter.account ? { account: filter.account } : {}),
    ...(filter.postId ? { postId: filter.postId } : {}),
    ...(filter.authorId ? { authorId: filter.authorId } : {}),
    ...(filter.status ? { status: filter.status } : {}),
    ...(filter.byCity !== undefined ? { byCity: filter.byCity } : {}),
    ...(filter.from || filter.to
      ? { lastPlatformAt: { ...(filter.from ? { gte: new Date(filter.from) } : {}), ...(filter.to ? { lt: new Date(filter.to) } : {}) } }
      : {}),
    ...(page.afterSeq !== undefined ? { seq: { lt: page.afterSeq } } : {}),
  }
  const rows = await prisma.comment.findMany({ where, orderBy: { seq: 'desc' }, take: page.limit + 1 })
  return { items: rows.slice(0, page.limit), next: rows.length > page.limit ? rows[page.limit - 1]!.seq : null }
}

export async function getComment(prisma: Tx | PrismaClient, id: string) {
  const comment = await prisma.comment.findUnique({
    where: { id },
    include: {
      events: { orderBy: [{ platformTime: 'asc' }, { receivedAt: 'asc' }] },
      parent: true,
      replies: { orderBy: { firstPlatformAt: 'asc' } },
    },
  })
  return comment
}
