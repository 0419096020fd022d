import type { Tx } from '../db/tx.js'
import type { Clock } from '../ledger/append.js'
import { defaultPolicy } from './default-policy.js'
import { createDraft, createPolicy, publishVersion } from './versions.js'

export type SeedResult = { created: true; policyId: string; version: number } | { created: false; policyId: string }

/**
 * Loads the default policy (src/policy/default-policy.ts) and publishes its first version, in force
 * now. Idempotent: when a policy of that name exists, nothing changes.
 */
export async function seedDefaultPolicy(tx: Tx, clock: Clock): Promise<SeedResult> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('policy-seed'))`
  const existing = await tx.policy.findUnique({ where: { name: defaultPolicy.name } })
  if (existing) return { created: false, policyId: existing.id }
  const actor = 'system:seed'
  const policy = await createPolicy(tx, actor, { name: defaultPolicy.name, description: defaultPolicy.description }, clock)
  const draft = await createDraft(tx, actor, policy.id, { content: defaultPolicy.content }, clock)
  await publishVersion(tx, actor, policy.id, draft.version, {}, clock)
  return { created: true, policyId: policy.id, version: draft.version }
}
