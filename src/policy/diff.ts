// Rule-by-rule difference between two policy versions (for review before publishing a version,
// and for the public change log).
import type { Matcher, PolicyVersionContent, Rule } from './rules.js'

export const RULE_FIELDS = ['title', 'sectionText', 'category', 'action', 'noticeTemplate', 'matcher'] as const
export type RuleField = (typeof RULE_FIELDS)[number]

export interface RuleChange {
  code: string
  /** The rule fields that differ, in RULE_FIELDS order. */
  fields: RuleField[]
  /** When the matcher changed: its keys that differ ("type" when the kind of matcher changed). */
  matcherFields?: string[]
  /** Terms matchers on both sides: terms added and removed (exact strings, in their version's order). */
  termsAdded?: string[]
  termsRemoved?: string[]
  /** Links matchers on both sides: deny-listed domains added and removed. */
  denyDomainsAdded?: string[]
  denyDomainsRemoved?: string[]
}

export interface VersionDiff {
  /** Codes only in `b`, in b's order. */
  added: string[]
  /** Codes only in `a`, in a's order. */
  removed: string[]
  /** Codes in both whose rule differs, in b's order. */
  changed: RuleChange[]
  /** Codes in both with identical rules, in b's order. */
  unchanged: string[]
  /** The rules common to both are evaluated and reported in a different order. */
  orderChanged: boolean
  policyUrlChanged: boolean
  appealUrlChanged: boolean
  /** The notice templates (`notices`) differ. */
  noticesChanged: boolean
}

/** Structural equality of JSON-like values (key order does not matter, array order does). */
export function deepEqual(x: unknown, y: unknown): boolean {
  if (x === y) return true
  if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null) return false
  if (Array.isArray(x) !== Array.isArray(y)) return false
  if (Array.isArray(x) && Array.isArray(y)) return x.length === y.length && x.every((v, i) => deepEqual(v, y[i]))
  const xo = x as Record<string, unknown>
  const yo = y as Record<string, unknown>
  const xk = Object.keys(xo).filter((k) => xo[k] !== undefined)
  const yk = Object.keys(yo).filter((k) => yo[k] !== undefined)
  return xk.length === yk.length && xk.every((k) => Object.hasOwn(yo, k) && deepEqual(xo[k], yo[k]))
}

const minus = (xs: readonly string[], ys: readonly string[]) => {
  const drop = new Set(ys)
  return [...new Set(xs)].filter((x) => !drop.has(x))
}

function matcherChange(a: Matcher, b: Matcher, change: RuleChange): void {
  if (a.type !== b.type) {
    change.matcherFields = ['type']
    return
  }
  const ao = a as Record<string, unknown>
  const bo = b as Record<string, unknown>
  const keys = [...new Set([...Object.keys(ao), ...Object.keys(bo)])].filter((k) => k !== 'type').sort()
  change.matcherFields = keys.filter((k) => !deepEqual(ao[k], bo[k]))
  if (a.type === 'terms' && b.type === 'terms') {
    change.termsAdded = minus(b.terms, a.terms)
    change.termsRemoved = minus(a.terms, b.terms)
  } else if (a.type === 'links' && b.type === 'links') {
    change.denyDomainsAdded = minus(b.denyDomains, a.denyDomains)
    change.denyDomainsRemoved = minus(a.denyDomains, b.denyDomains)
  }
}

/** Compares two versions rule by rule (rules are identified by code). */
export function diffVersions(a: PolicyVersionContent, b: PolicyVersionContent): VersionDiff {
  const aByCode = new Map<string, Rule>(a.rules.map((r) => [r.code, r]))
  const bCodes = new Set(b.rules.map((r) => r.code))
  const diff: VersionDiff = {
    added: [],
    removed: a.rules.filter((r) => !bCodes.has(r.code)).map((r) => r.code),
    changed: [],
    unchanged: [],
    orderChanged: false,
    policyUrlChanged: a.policyUrl !== b.policyUrl,
    appealUrlChanged: a.appealUrl !== b.appealUrl,
    noticesChanged: !deepEqual(a.notices ?? null, b.notices ?? null),
  }
  for (const rb of b.rules) {
    const ra = aByCode.get(rb.code)
    if (ra === undefined) {
      diff.added.push(rb.code)
      continue
    }
    const fields = RULE_FIELDS.filter((f) => !deepEqual(ra[f], rb[f]))
    if (fields.length === 0) {
      diff.unchanged.push(rb.code)
      continue
    }
    const change: RuleChange = { code: rb.code, fields }
    if (fields.includes('matcher')) matcherChange(ra.matcher, rb.matcher, change)
    diff.changed.push(change)
  }
  const commonA = a.rules.map((r) => r.code).filter((c) => bCodes.has(c))
  const commonB = b.rules.map((r) => r.code).filter((c) => aByCode.has(c))
  diff.orderChanged = commonA.some((c, i) => c !== commonB[i])
  return diff
}
