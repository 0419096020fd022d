// Evaluating one comment against a compiled policy version. Pure and deterministic: the result
// depends only on the compiled version, the input and EVALUATOR_VERSION (no clock, no randomness,
// no I/O).
//
// Terms: the base form of the text is scanned once by the automaton of all terms; when a
// leetspeak character touches a letter ("sh1t", "$hit"), the substitution form is scanned too
// (normalize.ts). A hit counts only at word boundaries (whole words), CamelCase boundaries
// ("#FuckThis") or as a glued word ("fuckthis", evasion.ts); in the substitution form a leading or
// trailing run of leetspeak punctuation may be either letters or punctuation ("$hit", "shit!");
// and unless the term itself has digits, every word of a hit needs a real letter ("455" is a
// number, not "ass"). Then the forms of the evasions the text shows signs of are scanned (spaced,
// repeated and masked letters, right-to-left overrides: evasion.ts), counting only hits that
// involve the evasion, each named in its evidence. Hits found twice are reported once. Every hit
// is cited in the ORIGINAL text through the offset map.
import type { AhoCorasick } from './aho-corasick.js'
import type { CompiledPolicy, CompiledTerms } from './compile.js'
import { DetectorText, detectPrivateInformation, type DetectorMatch, type DetectorName } from './detectors.js'
import { despace, gluedHit, mapVisual, maskedWords, MAYBE_MASKED, rtlOverrideVisual, squeeze } from './evasion.js'
import { isLetterClass, normalizeBuffer, normalizeForComparison, NormWriter, SEP, SOFT, SOLO, unitsToString, WORD, type NormBuffer } from './normalize.js'
import { fingerprintOf, fingerprintOfNormalized, isSimilarFingerprint, recentInWindow, versionsCompared, type Fingerprint } from './repetition.js'
import type { Evaluation, Evidence, Outcome, RuleMatch } from './rules.js'

/**
 * The version of this evaluator, recorded with every stored evaluation (comment_evaluation.evaluator).
 * A published policy version never changes, but what the evaluator recognizes can: 1 matched terms
 * as written (with look-alikes, leetspeak and single-spaced letters); 2 also recognizes the
 * evasions of evasion.ts and obfuscated e-mail addresses and phone numbers (docs/policy.md,
 * "Evasions"). Raise it whenever the same text and policy version can evaluate differently.
 */
export const EVALUATOR_VERSION = 2

/** Evidence items listed per matched rule; the rest are counted in `omittedEvidence`. */
export const MAX_EVIDENCE_PER_RULE = 100
/** A regex rule stops looking after this many hits (bounds the work on a flood). */
export const MAX_REGEX_HITS = 10_000

/** An earlier version by the same author: its text, or its fingerprint (repetition.ts), or both. */
export interface HistoryEntry {
  platformTime: string
  text?: string
  fingerprint?: Fingerprint
}

export interface EvaluateInput {
  text: string | null
  /** The author's earlier versions, for repetition rules (each rule compares at most K of them). */
  authorHistory?: ReadonlyArray<HistoryEntry>
  platformTime?: string
  /** The text's fingerprint when the caller has it (otherwise computed from the text). */
  fingerprint?: Fingerprint
}

interface Hit {
  start: number
  end: number
  detail: string
}

const isLetter = isLetterClass

/** Scratch output arrays for the base, substitution and detector forms, reused by every evaluation of
 * ordinary-sized comments (evaluate is synchronous, so nothing else can use them meanwhile). */
const SCRATCH_LIMIT = 65_536
const baseWriter = new NormWriter(1024)
const subWriter = new NormWriter(1024)
const detectorWriter = new NormWriter(1024)
const writerFor = (w: NormWriter, text: string) => (text.length <= SCRATCH_LIMIT ? w : undefined)

/**
 * True when every word of the normalized range [s, e) has a real letter (not a digit or leetspeak
 * punctuation read as one): "455" is not "ass", "@$$" is not either, "a$$" is.
 */
function lettersInEveryWord(cls: Uint8Array, s: number, e: number): boolean {
  let has = false
  for (let k = s; k < e; k++) {
    const c = cls[k]
    if (c === SEP) {
      if (!has) return false
      has = false
    } else if (c === WORD || c === SOLO) {
      has = true
    }
  }
  return has
}

/** Per normalized unit: part of a run of SOFT units reaching the start (lead) / end (trail) of its word. */
function softEdges(b: NormBuffer): { lead: Uint8Array; trail: Uint8Array } {
  const n = b.length
  const cls = b.classes
  const lead = new Uint8Array(n)
  const trail = new Uint8Array(n)
  for (let i = 0; i < n; i++) {
    if (cls[i] === SOFT && (i === 0 || !isLetter(cls[i - 1]!) || lead[i - 1] === 1)) lead[i] = 1
  }
  for (let i = n - 1; i >= 0; i--) {
    if (cls[i] === SOFT && (i === n - 1 || !isLetter(cls[i + 1]!) || trail[i + 1] === 1)) trail[i] = 1
  }
  return { lead, trail }
}

/** How a form of the text is scanned for terms. */
interface TermForm {
  readonly b: NormBuffer
  /** The substitution form: leetspeak punctuation at a word's edge may be punctuation. */
  readonly substitution: boolean
  /** The evasion technique that made this form (named in the evidence), if any. */
  readonly how?: string
  /** Units the technique changed: only hits covering one count (evasion.ts). */
  readonly marked?: Uint8Array
  /** The automaton to scan with (default: the terms'), and the terms' pattern of each of its patterns. */
  readonly automaton?: AhoCorasick
  readonly pattern?: Int32Array
  /** Original ranges are not in order (reversed spans): a hit cites the smallest range holding its units. */
  readonly unordered?: boolean
}

function covers(marked: Uint8Array, s: number, e: number): boolean {
  for (let k = s; k < e; k++) if (marked[k] === 1) return true
  return false
}

function scanTerms(terms: CompiledTerms, form: TermForm, hits: Array<Hit[] | undefined>): void {
  const { patternRule, patternTerm, patternNeedsLetters, patternGlued } = terms
  const { b, substitution, marked } = form
  const automaton = form.automaton ?? terms.automaton
  const plen = automaton.patternLength
  const cls = b.classes
  const st = b.start
  const en = b.end
  const n = b.length
  let edges: { lead: Uint8Array; trail: Uint8Array } | undefined

  automaton.scan(b.codes, 0, n, (own, e) => {
    const s = e - plen[own]!
    const p = form.pattern === undefined ? own : form.pattern[own]!
    if (marked !== undefined && !covers(marked, s, e)) return
    let startOk = true
    if (s > 0 && isLetter(cls[s - 1]!) && isLetter(cls[s]!)) {
      startOk = false
      if (substitution && cls[s - 1] === SOFT) {
        edges ??= softEdges(b)
        startOk = edges.lead[s - 1] === 1
      }
    }
    let endOk = true
    if (e < n && isLetter(cls[e - 1]!) && isLetter(cls[e]!)) {
      endOk = false
      if (substitution && cls[e] === SOFT) {
        edges ??= softEdges(b)
        endOk = edges.trail[e] === 1
      }
    }
    // Not a whole word (or a phrase written without spaces): CamelCase or glued words, or nothing.
    let glue: string | null = null
    if (!startOk || !endOk || patternGlued[p] === 1) {
      glue = gluedHit(terms, b, p, s, e, startOk, endOk)
      if (glue === null) return
    }
    if (patternNeedsLetters[p] === 1 && !lettersInEveryWord(cls, s, e)) return
    let hs = st[s]!
    let he = en[e - 1]!
    if (form.unordered === true) {
      for (let k = s; k < e; k++) {
        hs = Math.min(hs, st[k]!)
        he = Math.max(he, en[k]!)
      }
    }
    const how = [form.how, glue].filter((x) => x != null)
    const list = (hits[patternRule[p]!] ??= [])
    list.push({ start: hs, end: he, detail: `term ${JSON.stringify(patternTerm[p])}${how.length > 0 ? ` (${how.join(', ')})` : ''}` })
  })
}

/**
 * Scans the text for terms: its base form, its substitution form when it has leetspeak, and the
 * forms of the evasions (evasion.ts) that the text shows signs of.
 */
function scanAllTerms(terms: CompiledTerms, text: string, base: NormBuffer, hits: Array<Hit[] | undefined>, detectorText: () => DetectorText): void {
  scanTerms(terms, { b: base, substitution: false }, hits)
  const forms: TermForm[] = [{ b: base, substitution: false }]
  if (base.hasSubstitutions) {
    const sub = normalizeBuffer(text, 'substitution', writerFor(subWriter, text))
    scanTerms(terms, { b: sub, substitution: true }, hits)
    forms.push({ b: sub, substitution: true })
  }
  for (const { b, substitution } of forms) {
    const spaced = despace(b)
    if (spaced !== null) scanTerms(terms, { b: spaced.buffer, substitution, how: 'spaced letters', marked: spaced.marked }, hits)
    const squeezed = squeeze(b)
    if (squeezed !== null) {
      const form = { b: squeezed.buffer, substitution, how: 'repeated letters', marked: squeezed.marked }
      scanTerms(terms, form, hits)
      if (terms.squeezed !== null) scanTerms(terms, { ...form, automaton: terms.squeezed.automaton, pattern: terms.squeezed.pattern }, hits)
    }
  }
  const rtl = rtlOverrideVisual(text)
  if (rtl !== null) {
    for (const mode of ['base', 'substitution'] as const) {
      const v = normalizeBuffer(rtl.visual, mode)
      if (mode === 'substitution' && !v.hasSubstitutions) continue
      const visual = mapVisual(v, text, rtl.map, rtl.reversed)
      scanTerms(terms, { b: visual.buffer, substitution: mode === 'substitution', how: 'right-to-left override', marked: visual.marked, unordered: true }, hits)
    }
  }
  if (MAYBE_MASKED.test(text)) {
    const det = detectorText()
    for (const [s, e, p] of maskedWords(terms, det.form)) {
      const m = det.match(s, e, `term ${JSON.stringify(terms.patternTerm[p])} (masked letters)`)
      ;(hits[terms.patternRule[p]!] ??= []).push({ start: m.start, end: m.end, detail: m.detail })
    }
  }
}

function parseTime(value: string | undefined): number | null {
  if (value === undefined) return null
  const t = Date.parse(value)
  return Number.isFinite(t) ? t : null
}

/** Evaluates a comment. Empty or null text is allowed without matches. */
export function evaluate(compiled: CompiledPolicy, input: EvaluateInput): Evaluation {
  const text = input.text
  const versionId = compiled.versionId
  if (text === null || text === '') return { versionId, outcome: 'allow', matches: [] }

  const rules = compiled.rules
  const hits: Array<Hit[] | undefined> = new Array<Hit[] | undefined>(rules.length)
  let base: NormBuffer | undefined
  let det: DetectorText | undefined
  const detectorText = () => (det ??= new DetectorText(text, writerFor(detectorWriter, text)))

  if (compiled.terms !== null) {
    base = normalizeBuffer(text, 'base', writerFor(baseWriter, text))
    scanAllTerms(compiled.terms, text, base, hits, detectorText)
  }

  for (const { rule, program } of compiled.regexes) {
    if (!program.test(text)) continue // the DFA answers "any match?" much faster than a match search
    const m = program.matcher(text)
    let count = 0
    while (count < MAX_REGEX_HITS && m.find()) {
      const s = m.start()
      const e = m.end()
      if (e <= s) continue
      ;(hits[rule] ??= []).push({ start: s, end: e, detail: 'pattern' })
      count++
    }
  }

  if (compiled.links.length > 0 || compiled.privateInformation.length > 0) {
    const det = detectorText()
    for (const { rule, matcher } of compiled.links) {
      for (const h of matcher.match(det)) (hits[rule] ??= []).push(h)
    }
    const byDetector = new Map<DetectorName, DetectorMatch[]>()
    for (const { rule, detectors } of compiled.privateInformation) {
      for (const d of detectors) {
        let found = byDetector.get(d)
        if (found === undefined) {
          found = detectPrivateInformation(det, [d])
          byDetector.set(d, found)
        }
        for (const h of found) (hits[rule] ??= []).push(h)
      }
    }
  }

  if (compiled.repetition.length > 0 && input.authorHistory !== undefined && input.authorHistory.length > 0) {
    const now = parseTime(input.platformTime)
    if (now !== null) {
      const normalized = base !== undefined ? unitsToString(base.codes, 0, base.length).trim() : normalizeForComparison(text)
      if (normalized !== '') {
        // Bounded work (repetition.ts): each rule compares at most K fingerprints, each computed
        // once per evaluation (or given: ingestion stores one per version).
        const current = input.fingerprint ?? fingerprintOfNormalized(normalized)
        const history = input.authorHistory
        const prepared = new Map<number, Fingerprint>()
        for (const { rule, minCount, windowMs, similarity } of compiled.repetition) {
          let similar = 0
          for (const k of recentInWindow(history, now, windowMs, versionsCompared(minCount))) {
            let other = prepared.get(k)
            if (other === undefined) {
              const entry = history[k]!
              other = entry.fingerprint ?? fingerprintOf(entry.text ?? '')
              prepared.set(k, other)
            }
            if (isSimilarFingerprint(current, other, similarity)) similar++
          }
          if (similar + 1 >= minCount) {
            const minutes = windowMs / 60_000
            ;(hits[rule] ??= []).push({
              start: 0,
              end: text.length,
              detail: `${similar + 1} same or similar comments (similarity >= ${similarity}) within ${minutes} minute${minutes === 1 ? '' : 's'}, including this one`,
            })
          }
        }
      }
    }
  }

  const matches: RuleMatch[] = []
  let outcome: Outcome = 'allow'
  rules.forEach((rule, index) => {
    const list = hits[index]
    if (list === undefined || list.length === 0) return
    list.sort((a, b) => a.start - b.start || a.end - b.end || (a.detail < b.detail ? -1 : a.detail > b.detail ? 1 : 0))
    const evidence: Evidence[] = []
    let total = 0
    let lastStart = -1
    let lastEnd = -1
    for (const h of list) {
      if (h.start === lastStart && h.end === lastEnd) continue // same span found twice (two forms, two terms)
      lastStart = h.start
      lastEnd = h.end
      total++
      if (evidence.length < MAX_EVIDENCE_PER_RULE) evidence.push({ start: h.start, end: h.end, text: text.slice(h.start, h.end), detail: h.detail })
    }
    const match: RuleMatch = { ruleCode: rule.code, category: rule.category, action: rule.action, evidence }
    if (total > evidence.length) match.omittedEvidence = total - evidence.length
    matches.push(match)
    if (rule.action === 'remove') outcome = 'remove'
    else if (outcome === 'allow') outcome = 'flag'
  })
  return { versionId, outcome, matches }
}
