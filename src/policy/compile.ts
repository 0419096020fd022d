// Compiling a policy version: everything that does not depend on the comment is built once
// (one Aho-Corasick automaton for the terms of all rules, the RE2 programs, the link matchers,
// the detector lists) and cached by version id.
import { RE2JS } from 're2js'
import { AhoCorasick } from './aho-corasick.js'
import { LinkMatcher, type DetectorName } from './detectors.js'
import { GLUE_FILLERS, MIN_GLUED_TERM, squeezedPatterns } from './evasion.js'
import { DIGIT, normalize, normalizeTerm } from './normalize.js'
import { PolicyValidationError, validatePolicyContent, type PolicyVersionContent, type Rule } from './rules.js'

/** Shortest phrase written without its spaces that is matched as a glued word ("killya"). */
const MIN_GLUED_PHRASE = 6

/** Spelling variants per term for "1 may be i or l" (the automaton grows by at most this factor). */
export const MAX_TERM_VARIANTS = 64

export interface CompiledTerms {
  readonly automaton: AhoCorasick
  /** The automaton's patterns (normalized spellings of the terms). */
  readonly patterns: readonly string[]
  /** Per automaton pattern: index of its rule in the version. */
  readonly patternRule: Int32Array
  /** Per automaton pattern: the term as written in the policy. */
  readonly patternTerm: readonly string[]
  /**
   * Per automaton pattern: 1 when the term has no digit, so every word of a hit must contain a
   * real letter ("455" does not match "ass"); 0 for terms written with digits ("420").
   */
  readonly patternNeedsLetters: Uint8Array
  /**
   * Per automaton pattern: 1 for a phrase written without its spaces ("killyou" for "kill you"),
   * which matches only as a glued word (evasion.ts).
   */
  readonly patternGlued: Uint8Array
  /** Per automaton pattern: 1 when it may be glued to other words (one word, >= MIN_GLUED_TERM units). */
  readonly patternGluable: Uint8Array
  /** The gluable patterns, and with them GLUE_FILLERS: the pieces a glued word may be made of. */
  readonly gluedTerms: ReadonlySet<string>
  readonly gluedPieces: ReadonlySet<string>
  readonly maxGluedPiece: number
  /** The patterns with a double letter, collapsed, for the repeated-letters form (evasion.ts). */
  readonly squeezed: { readonly automaton: AhoCorasick; readonly pattern: Int32Array } | null
}

export interface CompiledRegex {
  readonly rule: number
  readonly program: RE2JS
}

export interface CompiledLinks {
  readonly rule: number
  readonly matcher: LinkMatcher
}

export interface CompiledPrivateInformation {
  readonly rule: number
  readonly detectors: readonly DetectorName[]
}

export interface CompiledRepetition {
  readonly rule: number
  readonly minCount: number
  readonly windowMs: number
  readonly similarity: number
}

export interface CompiledPolicy {
  readonly versionId: string
  readonly content: PolicyVersionContent
  readonly rules: readonly Rule[]
  readonly terms: CompiledTerms | null
  readonly regexes: readonly CompiledRegex[]
  readonly links: readonly CompiledLinks[]
  readonly privateInformation: readonly CompiledPrivateInformation[]
  readonly repetition: readonly CompiledRepetition[]
}

/**
 * The spellings of a normalized term that the substitution form of a text can contain: each
 * i or l may be written 1 (and a 1 in the term may be i or l). The substitution form keeps "1"
 * because it stands for both letters. Capped at `max` variants (later positions stay as written).
 */
export function termVariants(form: string, max = MAX_TERM_VARIANTS): string[] {
  let variants = ['']
  for (const ch of form) {
    const options = ch === 'i' ? ['i', '1'] : ch === 'l' ? ['l', '1'] : ch === '1' ? ['1', 'i', 'l'] : null
    if (options !== null && variants.length * options.length <= max) variants = variants.flatMap((v) => options.map((o) => v + o))
    else variants = variants.map((v) => v + ch)
  }
  return variants
}

/** Validates and compiles a policy version. Throws PolicyValidationError listing every problem. */
export function compilePolicy(content: PolicyVersionContent, versionId: string): CompiledPolicy {
  const checked = validatePolicyContent(content)
  if (!checked.ok) throw new PolicyValidationError(checked.problems)
  const rules = checked.content.rules

  const patterns: string[] = []
  const patternRule: number[] = []
  const patternTerm: string[] = []
  const patternNeedsLetters: number[] = []
  const patternGlued: number[] = []
  const regexes: CompiledRegex[] = []
  const links: CompiledLinks[] = []
  const privateInformation: CompiledPrivateInformation[] = []
  const repetition: CompiledRepetition[] = []

  rules.forEach((rule, index) => {
    const m = rule.matcher
    switch (m.type) {
      case 'terms': {
        const seen = new Set<string>()
        for (const term of m.terms) {
          const needsLetters = normalize(term, 'base').classes.includes(DIGIT) ? 0 : 1
          const forms = termVariants(normalizeTerm(term))
          // A term written with digits ("420") also matches as written: numbers alone never
          // trigger the substitution form of a text.
          if (needsLetters === 0 && !/[@$!|+]/.test(term)) forms.push(normalizeTerm(term, 'base'))
          const glued = forms.filter((f) => f.includes(' ')).map((f) => f.replaceAll(' ', ''))
          for (const [list, isGlued] of [[forms, 0], [glued, 1]] as const) {
            for (const variant of list) {
              if (seen.has(variant)) continue // "Shit" and "shit": one pattern, cited as the first
              if (isGlued === 1 && variant.length < MIN_GLUED_PHRASE) continue
              seen.add(variant)
              patterns.push(variant)
              patternRule.push(index)
              patternTerm.push(term)
              patternNeedsLetters.push(needsLetters)
              patternGlued.push(isGlued)
            }
          }
        }
        break
      }
      case 'regex':
        regexes.push({ rule: index, program: RE2JS.compile(m.pattern, m.flags?.caseInsensitive === true ? RE2JS.CASE_INSENSITIVE : 0) })
        break
      case 'links':
        links.push({ rule: index, matcher: new LinkMatcher(m.denyDomains, m.shorteners) })
        break
      case 'private_information':
        privateInformation.push({ rule: index, detectors: [...new Set(m.detectors)] })
        break
      case 'repetition':
        repetition.push({ rule: index, minCount: m.minCount, windowMs: m.windowMinutes * 60_000, similarity: m.similarity })
        break
    }
  })

  const patternGluable = patterns.map((p) => (!p.includes(' ') && p.length >= MIN_GLUED_TERM ? 1 : 0))
  const gluedTerms = new Set(patterns.filter((_, p) => patternGluable[p] === 1))
  const gluedPieces = new Set([...gluedTerms, ...GLUE_FILLERS])
  return {
    versionId,
    content: checked.content,
    rules,
    terms:
      patterns.length === 0
        ? null
        : {
            automaton: new AhoCorasick(patterns),
            patterns,
            patternRule: Int32Array.from(patternRule),
            patternTerm,
            patternNeedsLetters: Uint8Array.from(patternNeedsLetters),
            patternGlued: Uint8Array.from(patternGlued),
            patternGluable: Uint8Array.from(patternGluable),
            gluedTerms,
            gluedPieces,
            maxGluedPiece: [...gluedPieces].reduce((max, p) => Math.max(max, p.length), 0),
            squeezed: squeezedPatterns(patterns),
          },
    regexes,
    links,
    privateInformation,
    repetition,
  }
}

/**
 * Compiled policies by version id (versions are immutable, so a version is compiled once).
 * Least recently used entries are dropped beyond `maxEntries`.
 */
export class PolicyCache {
  readonly maxEntries: number
  readonly #entries = new Map<string, CompiledPolicy>()
  readonly #loading = new Map<string, Promise<CompiledPolicy>>()

  constructor(maxEntries = 16) {
    if (!(maxEntries >= 1)) throw new RangeError('maxEntries must be >= 1')
    this.maxEntries = maxEntries
  }

  /** The compiled version, compiling `content` (or what `load` returns) on a miss. */
  get(versionId: string, content: PolicyVersionContent | (() => PolicyVersionContent)): CompiledPolicy {
    const hit = this.#entries.get(versionId)
    if (hit !== undefined) {
      this.#entries.delete(versionId)
      this.#entries.set(versionId, hit)
      return hit
    }
    const compiled = compilePolicy(typeof content === 'function' ? content() : content, versionId)
    this.#entries.set(versionId, compiled)
    while (this.#entries.size > this.maxEntries) this.#entries.delete(this.#entries.keys().next().value!)
    return compiled
  }

  /**
   * Like `get`, for content loaded asynchronously (from the database): concurrent misses for one
   * version share a single load and compilation.
   */
  async load(versionId: string, load: () => Promise<PolicyVersionContent>): Promise<CompiledPolicy> {
    const hit = this.#entries.get(versionId)
    if (hit !== undefined) return this.get(versionId, hit.content)
    let pending = this.#loading.get(versionId)
    if (pending === undefined) {
      pending = load()
        .then((content) => this.get(versionId, content))
        .finally(() => this.#loading.delete(versionId))
      this.#loading.set(versionId, pending)
    }
    return pending
  }

  /** The compiled version if cached (no compilation). */
  peek(versionId: string): CompiledPolicy | undefined {
    return this.#entries.get(versionId)
  }

  has(versionId: string): boolean {
    return this.#entries.has(versionId)
  }

  delete(versionId: string): boolean {
    return this.#entries.delete(versionId)
  }

  clear(): void {
    this.#entries.clear()
  }

  get size(): number {
    return this.#entries.size
  }
}
