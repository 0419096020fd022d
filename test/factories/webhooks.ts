import { createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { PROJECT_ROOT } from '../../src/paths.js'
import type { WebhookSource } from '../../src/webhooks/platforms/index.js'
import { TEST_WEBHOOK_SECRETS } from '../helpers/app.js'

export const FIXTURES_DIR = join(PROJECT_ROOT, '..', 'shared', 'platforms', 'fixtures')

export function fixture(name: string): Buffer {
  return readFileSync(join(FIXTURES_DIR, name))
}

export const FIXTURE_SOURCES: Record<string, WebhookSource> = {
  'meta-facebook-batch.json': 'meta',
  'meta-facebook-comment-add.json': 'meta',
  'meta-facebook-comment-edited.json': 'meta',
  'meta-facebook-comment-remove.json': 'meta',
  'meta-instagram-comment.json': 'meta',
  'x-delete.json': 'x',
  'x-reply.json': 'x',
  'linkedin-comment.json': 'linkedin',
  'website-comments.json': 'website',
}

const mac = (secret: string, ...parts: Array<string | Buffer>) => {
  const h = createHmac('sha256', secret)
  for (const p of parts) h.update(p)
  return h.digest()
}

/** Signature headers computed here, independently of the adapters, as each platform documents them. */
export function signatureHeaders(source: WebhookSource, body: Buffer, now = new Date()): Record<string, string> {
  switch (source) {
    case 'meta':
      return { 'x-hub-signature-256': 'sha256=' + mac(TEST_WEBHOOK_SECRETS.META_APP_SECRET, body).toString('hex') }
    case 'x':
      return { 'x-twitter-webhooks-signature': 'sha256=' + mac(TEST_WEBHOOK_SECRETS.X_CONSUMER_SECRET, body).toString('base64') }
    case 'linkedin':
      return { 'x-li-signature': mac(TEST_WEBHOOK_SECRETS.LINKEDIN_CLIENT_SECRET, 'hmacsha256=', body).toString('hex') }
    case 'website': {
      const t = String(Math.floor(now.getTime() / 1000))
      return { 'townsquare-signature': `t=${t},v1=` + mac(TEST_WEBHOOK_SECRETS.WEBSITE_WEBHOOK_SECRET, t, '.', body).toString('hex') }
    }
  }
}

export function deliver(app: FastifyInstance, source: WebhookSource, body: Buffer | string, headers?: Record<string, string>) {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body)
  return app.inject({
    method: 'POST',
    url: `/v1/webhooks/${source}`,
    headers: { 'content-type': 'application/json', ...(headers ?? signatureHeaders(source, bytes, app.clock())) },
    payload: bytes,
  })
}

/** A Meta page delivery of `count` new comments, as Meta sends it (non-ASCII escaped). */
export function metaBatch(count: number, options: { page?: string; post?: string; firstId?: number; time?: number } = {}): Buffer {
  const page = options.page ?? '448242228374517'
  const post = options.post ?? `${page}_122131676912594941`
  const time = options.time ?? 1767225604
  const changes = Array.from({ length: count }, (_, i) => {
    const n = (options.firstId ?? 0) + i
    return {
      field: 'feed',
      value: {
        from: { id: String(7000000000 + n), name: `Resident ${n}` },
        message: `Comment ${n} about the Court Street bridge \u00e9t\u00e9`,
        post_id: post,
        comment_id: `122131676912594941_${9000000 + n}`,
        parent_id: post,
        created_time: time + i,
        item: 'comment',
        verb: 'add',
      },
    }
  })
  return Buffer.from(JSON.stringify({ object: 'page', entry: [{ id: page, time: time + count, changes }] }).replace(/[\u0080-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')))
}

export interface MetaChange {
  id: string
  verb?: 'add' | 'edited' | 'remove' | 'hide' | 'unhide'
  parent?: string
  message?: string
  time?: number
  author?: string
}

/** A Meta page delivery of these changes to comments under one post (a reply when `parent` is given). */
export function metaChanges(changes: MetaChange[], entryTime = 1767225700): Buffer {
  const page = '448242228374517'
  const post = `${page}_122131676912594941`
  return Buffer.from(
    JSON.stringify({
      object: 'page',
      entry: [
        {
          id: page,
          time: entryTime,
          changes: changes.map((c) => ({
            field: 'feed',
            value: {
              from: { id: c.author ?? '7000000001', name: 'Resident' },
              message: c.message ?? `Comment ${c.id}`,
              post_id: post,
              comment_id: c.id,
              parent_id: c.parent ?? post,
              created_time: c.time ?? 1767225600,
              item: 'comment',
              verb: c.verb ?? 'add',
            },
          })),
        },
      ],
    }),
  )
}
