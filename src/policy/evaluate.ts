// Evaluating one comment against a compiled policy version. Pure and deterministic: the result
// depends only on the compiled version and the input (no clock, no randomness, no I/O).
//
// Terms: the base form of the text is scanned once by the automaton of all terms; when a
// leetspeak character touches a letter ("sh1t", "$hit"), the substitution form is scanned too
// (normalize.ts). A hit counts only at word boundaries (whole words); in the substitution form a
// leading or trailing run of leetspeak punctuation may be either letters or punctuation ("$hit",
// "shit!"); and unless the term itself has digits, every word of a hit needs a real letter
// ("455" is a number, not "ass"). Hits found by both scans are reported once.
// Letters written one by one ("s h i t", "S.H.I.T.") are recognised when a run of at least three
// single-letter words, separated by exactly one space or punctuation character, spells a whole
// term exactly. Every hit is cited in the ORIGINAL text through the offset map.
import type { CompiledPolicy, CompiledTerms } from './compile.js'
import { DetectorText, detectPrivateInformation, type DetectorMatch, type DetectorName } from './detectors.js'
import { isLetterClass, normalizeBuffer, normalizeForComparison, NormWriter, SEP, SOFT, SOLO, unitsToString, WORD, type NormBuffer } from './normalize.js'
import { fingerprintOf, fingerprintOfNormalized, isSimilarFingerprint, recentInWindow, versionsCompared, type Fingerprint } from './repetition.js'
import type { Evaluation, Evidence, Outcome, RuleMatch } from './rules.js'

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

function scanTerms(terms: CompiledTerms, b: NormBuffer, substitution: boolean, hits: Array<Hit[] | undefined>): void {
  const { automaton, patternRule, patternTerm, patternNeedsLetters } = terms
  const plen = automaton.patternLength
  const cls = b.classes
  const st = b.start
  const en = b.end
  const n = b.length
  let edges: { lead: Uint8Array; trail: Uint8Array } | undefined
  const add = (p: number, s: number, e: number, how: string) => {
    const rule = patternRule[p]!
    const list = (hits[rule] ??= [])
    list.push({ start: s, end: e, detail: `term ${JSON.stringify(patternTerm[p])}${how}` })
  }

  automaton.scan(b.codes, 0, n, (p, e) => {
    const s = e - plen[p]!
    if (s > 0 && isLetter(cls[s - 1]!) && isLetter(cls[s]!)) {
      if (!substitution || cls[s - 1] !== SOFT) return
      edges ??= softEdges(b)
      if (edges.lead[s - 1] !== 1) return
    }
    if (e < n && isLetter(cls[e - 1]!) && isLetter(cls[e]!)) {
      if (!substitution || cls[e] !== SOFT) return
      edges ??= softEdges(b)
      if (edges.trail[e] !== 1) return
    }
    if (patternNeedsLetters[p] === 1 && !lettersInEveryWord(cls, s, e)) return
    add(p, st[s]!, en[e - 1]!, '')
  })

  // Spaced letters: runs of >= 3 single-letter words, one separator character apart.
  const maxLen = automaton.maxPatternLength
  let run: number[] = []
  const flush = () => {
    if (run.length >= 3 && run.length <= maxLen) {
      const codes = new Uint16Array(run.length)
      let real = false
      run.forEach((unit, k) => {
        codes[k] = b.codes[unit]!
        if (cls[unit] === WORD) real = true
      })
      const first = run[0]!
      const last = run[run.length - 1]!
      automaton.scan(codes, 0, codes.length, (p, e) => {
        if (e === codes.length && plen[p] === codes.length && (real || patternNeedsLetters[p] === 0)) {
          add(p, st[first]!, en[last]!, ' (spaced letters)')
        }
      })
    }
    run = []
  }
  for (let i = 0; i < n; ) {
    if (!isLetter(cls[i]!)) {
      i++
      continue
    }
    let j = i + 1
    while (j < n && isLetter(cls[j]!)) j++
    if (j - i === 1) {
      const prev = run.length > 0 ? run[run.length - 1]! : -10
      if (!(i === prev + 2 && cls[prev + 1] === SEP && en[prev + 1]! - st[prev + 1]! === 1)) flush()
      run.push(i)
    } else if (run.length > 0) {
      flush()
    }
    i = j
  }
  flush()
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

  if (compiled.terms !== null) {
    base = normalizeBuffer(text, 'base', writerFor(baseWriter, text))
    scanTerms(compiled.terms, base, false, hits)
    if (base.hasSubstitutions) scanTerms(compiled.terms, normalizeBuffer(text, 'substitution', writerFor(subWriter, text)), true, hits)
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
    const det = new DetectorText(text, writerFor(detectorWriter, text))
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
