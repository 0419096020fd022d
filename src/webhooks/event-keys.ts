import { createHmac } from 'node:crypto'
import { asSql, type Queryable } from '../db/sql.js'
import { canonicalJson, sha256Hex } from '../ledger/canonical-json.js'
import type { CommentEvent } from './platforms/index.js'

/**
 * Identifies one change of a comment, so the same change arriving twice (a retry, or inside two
 * deliveries) is stored once. A version is its text at its time; an edit back to an earlier text
 * at a later time is a new version. A version's key is keyed with the installation's secret
 * ('k:' + HMAC-SHA256(secret, 'v:' + SHA-256 of the text and time)): keys are in every ledger
 * payload and so in exports and productions, and an unkeyed hash of a short text lets anyone
 * confirm a guess of it (a redacted SSN, a destroyed comment). State changes carry no content.
 */
export function eventKey(event: Pick<CommentEvent, 'kind' | 'text' | 'platformTime'>, secret: Buffer): string {
  if (event.kind === 'created' || event.kind === 'edited') {
    return keyedVersionKey(unkeyedVersionKey(event.text ?? '', event.platformTime), secret)
  }
  return `${event.kind}@${event.platformTime}`
}

/** The version key before migration 20261208040000 ('v:…'), still in the ledger payloads written before it. */
export function unkeyedVersionKey(text: string, platformTime: string): string {
  return 'v:' + sha256Hex(canonicalJson({ text, platformTime }))
}

/** What migration 20261208040000 made of an unkeyed key, and what ingestion computes. */
export function keyedVersionKey(unkeyed: string, secret: Buffer): string {
  return 'k:' + createHmac('sha256', secret).update(unkeyed, 'utf8').digest('hex')
}

/**
 * The installation's secret, read once from the database (installation_secret, made by its
 * migration) and kept; read again after a failure.
 */
export class EventKeySecret {
  private loading: Promise<Buffer> | null = null

  get(q: Queryable): Promise<Buffer> {
    this.loading ??= asSql(q)
      .query<{ event_key_secret: Uint8Array }>('SELECT event_key_secret FROM installation_secret')
      .then((rows) => {
        if (rows.length !== 1) throw new Error('installation_secret has no row: the database was not migrated')
        return Buffer.from(rows[0]!.event_key_secret)
      })
    this.loading.catch(() => (this.loading = null))
    return this.loading
  }
}
