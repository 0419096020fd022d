import type { FastifyInstance } from 'fastify'
import { deliver } from '../factories/webhooks.js'

let n = 0

/** Comments ingested through the real signed website webhook: [text, author] per comment; `edits` adds versions. */
export async function websiteComments(
  app: FastifyInstance,
  comments: Array<{ text: string; author?: { id: string; name: string; email?: string }; edits?: string[] }>,
): Promise<string[]> {
  const events = []
  const externalIds: string[] = []
  for (const c of comments) {
    const id = `c-${++n}-${Math.random().toString(36).slice(2, 8)}`
    externalIds.push(id)
    const author = c.author ?? { id: `u-${n}`, name: `Resident ${n}` }
    const base = { commentId: id, pageUrl: 'https://www.citykankakee-il.gov/news/road-work', author }
    events.push({ id: `evt-${id}-0`, type: 'comment.created', ...base, text: c.text, occurredAt: new Date(Date.UTC(2026, 10, 2, 15, n)).toISOString() })
    for (const [i, text] of (c.edits ?? []).entries()) {
      events.push({ id: `evt-${id}-${i + 1}`, type: 'comment.edited', ...base, text, occurredAt: new Date(Date.UTC(2026, 10, 2, 16, n, i)).toISOString() })
    }
  }
  const res = await deliver(app, 'website', JSON.stringify({ events }))
  if (res.statusCode !== 200) throw new Error(`website delivery refused: ${res.statusCode} ${res.body}`)
  const rows = await app.db.prisma.comment.findMany({ where: { platform: 'website', externalId: { in: externalIds } }, select: { id: true, externalId: true } })
  return externalIds.map((e) => rows.find((r) => r.externalId === e)!.id)
}

/** The byte range of each member's content in a ustar archive. */
export function tarMembers(archive: Buffer): Map<string, { offset: number; size: number }> {
  const members = new Map<string, { offset: number; size: number }>()
  for (let pos = 0; pos + 512 <= archive.length; ) {
    const header = archive.subarray(pos, pos + 512)
    if (header.every((b) => b === 0)) break
    const name = header.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '')
    const size = parseInt(header.subarray(124, 136).toString('ascii').replace(/\0.*$/s, '').trim(), 8)
    members.set(name, { offset: pos + 512, size })
    pos += 512 + Math.ceil(size / 512) * 512
  }
  return members
}
