// Console sessions: a random token in an HttpOnly cookie, its SHA-256 in console_session, an idle
// and an absolute timeout, and a CSRF token per session that every form carries back.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { PrismaClient } from '../generated/prisma/client.js'
import type { Clock } from '../ledger/append.js'
import { ROLES, type Role } from '../plugins/auth.js'

export interface Session {
  subject: string
  displayName: string
  roles: Role[]
  csrfToken: string
  signedInBy: 'oidc' | 'development'
  createdAt: Date
}

export interface SessionLimits {
  idleMs: number
  maxMs: number
}

const sha256 = (token: string) => createHash('sha256').update(token, 'utf8').digest()

// A session's last_seen_at is written at most once a minute: a page and its fragments are one visit.
const TOUCH_EVERY_MS = 60_000

/** Starts a session; returns the cookie's token (never stored) and the session. */
export async function startSession(
  prisma: PrismaClient,
  clock: Clock,
  who: { subject: string; displayName: string; roles: readonly string[]; signedInBy: Session['signedInBy'] },
): Promise<{ token: string; session: Session }> {
  const token = randomBytes(32).toString('base64url')
  const now = clock()
  const roles = ROLES.filter((r) => who.roles.includes(r))
  const session: Session = {
    subject: who.subject,
    displayName: who.displayName,
    roles,
    csrfToken: randomBytes(32).toString('base64url'),
    signedInBy: who.signedInBy,
    createdAt: now,
  }
  await prisma.consoleSession.create({
    data: { tokenSha256: sha256(token), ...session, lastSeenAt: now },
  })
  return { token, session }
}

/**
 * The live session of a cookie's token, or why there is none: `expired` when it ran past a timeout
 * (it is ended then), `none` when the token is unknown or was signed out.
 */
export async function readSession(
  prisma: PrismaClient,
  clock: Clock,
  limits: SessionLimits,
  token: string,
): Promise<{ session: Session } | { none: 'expired' | 'unknown' }> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return { none: 'unknown' }
  const id = sha256(token)
  const row = await prisma.consoleSession.findUnique({ where: { tokenSha256: id } })
  if (!row || row.endedAt) return { none: 'unknown' }
  const now = clock()
  if (now.getTime() - row.lastSeenAt.getTime() >= limits.idleMs || now.getTime() - row.createdAt.getTime() >= limits.maxMs) {
    await prisma.consoleSession.update({ where: { tokenSha256: id }, data: { endedAt: now } })
    return { none: 'expired' }
  }
  if (now.getTime() - row.lastSeenAt.getTime() > TOUCH_EVERY_MS) {
    await prisma.consoleSession.update({ where: { tokenSha256: id }, data: { lastSeenAt: now } })
  }
  return {
    session: {
      subject: row.subject,
      displayName: row.displayName,
      roles: ROLES.filter((r) => row.roles.includes(r)),
      csrfToken: row.csrfToken,
      signedInBy: row.signedInBy === 'oidc' ? 'oidc' : 'development',
      createdAt: row.createdAt,
    },
  }
}

/** Signs a session out; an unknown token is not an error (signing out twice is signing out). */
export async function endSession(prisma: PrismaClient, clock: Clock, token: string): Promise<void> {
  await prisma.consoleSession.updateMany({ where: { tokenSha256: sha256(token), endedAt: null }, data: { endedAt: clock() } })
}

/** Whether a submitted CSRF token is the session's (constant time). */
export function csrfMatches(session: Session, submitted: unknown): boolean {
  if (typeof submitted !== 'string') return false
  const a = Buffer.from(session.csrfToken)
  const b = Buffer.from(submitted)
  return a.length === b.length && timingSafeEqual(a, b)
}

/** Sessions ended or expired more than a day ago are deleted: they authorize nothing and are not records. */
export async function pruneSessions(prisma: PrismaClient, clock: Clock, limits: SessionLimits): Promise<number> {
  const dayAgo = new Date(clock().getTime() - 86_400_000)
  const { count } = await prisma.consoleSession.deleteMany({
    where: { OR: [{ endedAt: { lt: dayAgo } }, { createdAt: { lt: new Date(dayAgo.getTime() - limits.maxMs) } }] },
  })
  return count
}
