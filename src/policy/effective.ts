import type { Tx } from '../db/tx.js'
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
 * versions never change (a trigger freezes them), so their content is kept for the life of the
 * process; only the list of published versions (a few rows) is read each time, so a version
 * published by another instance is used at once.
 */
export class PolicyResolver {
  readonly cache = new PolicyCache()
  readonly #published = new Map<string, VersionRow>()

  async versionsAt(tx: Tx, times: readonly Date[]): Promise<Array<EffectiveVersion | null>> {
    if (times.length === 0) return []
    const published = await tx.policyVersion.findMany({
      where: { status: 'published' },
      orderBy: { effectiveFrom: 'asc' },
      select: { id: true, effectiveFrom: true },
    })
    const chosen = times.map((t) => {
      let found: string | null = null
      for (const v of published) {
        if (v.effectiveFrom!.getTime() <= t.getTime()) found = v.id
        else break
      }
      return found
    })
    const missing = [...new Set(chosen.filter((id): id is string => id !== null && !this.#published.has(id)))]
    if (missing.length > 0) {
      for (const row of await tx.policyVersion.findMany({ where: { id: { in: missing } } })) {
        this.#published.set(row.id, { id: row.id, policyId: row.policyId, version: row.version, effectiveFrom: row.effectiveFrom!, content: row.content as PolicyVersionContent })
      }
    }
    return chosen.map((id) => {
      if (id === null) return null
      const row = this.#published.get(id)!
      return { ...row, compiled: this.cache.get(id, row.content) }
    })
  }
}
