import { asSql, type Queryable } from '../db/sql.js'
import { PolicyCache, type CompiledPolicy } from './compile.js'
import type { PolicyVersionContent } from './rules.js'

export interface EffectiveVersion {
  id: string
  policyId: string
  version: number
  effectiveFrom: Date
  content: PolicyVersionContent
  compiled: CompiledPolicy
}

type VersionRow = Omit<EffectiveVersion, 'compiled'>

/**
 * Finds the published version in force at a time and compiles it once (PolicyCache). Published
 * versions never change or go away (a trigger freezes them), so their content is kept for the life
 * of the process, and the list of published versions only grows. A caller that has read the count
 * of published versions in its own transaction (ingestion reads it in the same statement as its
 * inserts) passes it: the list kept in memory is used when it has that many versions, and read
 * again when not, so a version published here or by another instance is used as soon as the
 * caller's transaction can see it, with no TTL and no extra round trip in the common case.
 * Without a count, the list is read every time.
 */
export class PolicyResolver {
  readonly cache = new PolicyCache()
  readonly #published = new Map<string, VersionRow>()
  #list: ReadonlyArray<{ id: string; effectiveFrom: Date }> = []

  /**
   * `cachedOnly`: choose from the list kept in memory without reading it (ingestion then checks
   * the count of the list used, returned in `used`, against the count its own statements read, and
   * asks again with that count when they differ).
   */
  async versionsAt(
    tx: Queryable,
    times: readonly Date[],
    options: { publishedCount?: number; cachedOnly?: boolean; used?: { count: number } } = {},
  ): Promise<Array<EffectiveVersion | null>> {
    if (times.length === 0) return []
    const sql = asSql(tx)
    let published = this.#list
    if (!options.cachedOnly && (options.publishedCount === undefined || options.publishedCount !== published.length)) {
      const rows = await sql.query<{ id: string; effective_from: Date }>(
        `SELECT id::text, effective_from FROM policy_version WHERE status = 'published' ORDER BY effective_from`,
      )
      published = rows.map((r) => ({ id: r.id, effectiveFrom: r.effective_from }))
      // A slower, older read must not replace a newer list (the list only grows).
      if (published.length >= this.#list.length) this.#list = published
    }
    // The number of published versions the choice was made from (`used`: for a caller that checks it later).
    if (options.used) options.used.count = published.length
    const chosen = times.map((t) => {
      let found: string | null = null
      for (const v of published) {
        if (v.effectiveFrom.getTime() <= t.getTime()) found = v.id
        else break
      }
      return found
    })
    const missing = [...new Set(chosen.filter((id): id is string => id !== null && !this.#published.has(id)))]
    if (missing.length > 0) {
      const rows = await sql.query<{ id: string; policy_id: string; version: number; effective_from: Date; content: PolicyVersionContent }>(
        `SELECT id::text, policy_id::text, version, effective_from, content FROM policy_version WHERE id = ANY($1::uuid[])`,
        [missing],
      )
      for (const row of rows) {
        this.#published.set(row.id, { id: row.id, policyId: row.policy_id, version: row.version, effectiveFrom: row.effective_from, content: row.content })
      }
    }
    return chosen.map((id) => {
      if (id === null) return null
      const row = this.#published.get(id)!
      return { ...row, compiled: this.cache.get(id, row.content) }
    })
  }
}
