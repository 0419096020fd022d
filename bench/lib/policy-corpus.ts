// Precision and recall of a policy's rules and of the evasion techniques on the evaluation corpus
// (test/policy/fixtures/corpus.ts), for bench:policy.
//
// Per rule: a true positive is an evasion of that rule (or contact information, for 4.e) that the
// rule matches; a false positive is an ordinary comment (ORDINARY, KNOWN_FALSE_POSITIVES) or a
// CONTACT comment matched by any rule other than 4.e. A rule matching an evasion meant for
// another rule ("fuckingidiot" is 4.c, and 4.a too) is neither: the corpus does not say.
// Per technique: a true positive is an evasion with the technique named in the evidence of its
// rule; a false positive is an ordinary comment with the technique named in any evidence.
import { CONTACT, EVASIONS, KNOWN_FALSE_POSITIVES, ORDINARY, TECHNIQUES } from '../../test/policy/fixtures/corpus.js'
import type { Evaluation } from '../../src/policy/rules.js'

export interface Figures {
  name: string
  truePositives: number
  falsePositives: number
  /** Positives in the corpus (evasions of the rule or technique). */
  positives: number
  /** The texts behind the false positives and the misses. */
  falsePositiveTexts: string[]
  missed: string[]
}

export interface CorpusFigures {
  rules: Figures[]
  techniques: Figures[]
  /** Ordinary comments (ORDINARY only) that were not allowed. */
  ordinaryNotAllowed: string[]
  counts: { ordinary: number; knownFalsePositives: number; contact: number; evasions: number }
}

const names = (r: Evaluation) => r.matches.flatMap((m) => m.evidence.map((e) => e.detail ?? ''))

/** Evaluates the corpus with `evaluate` (a compiled default policy behind it). */
export function corpusFigures(ruleCodes: readonly string[], evaluate: (text: string) => Evaluation): CorpusFigures {
  const fig = (name: string): Figures => ({ name, truePositives: 0, falsePositives: 0, positives: 0, falsePositiveTexts: [], missed: [] })
  const rules = new Map(ruleCodes.map((c) => [c, fig(c)]))
  const techniques = new Map(TECHNIQUES.map((t) => [t as string, fig(t)]))
  const ordinaryNotAllowed: string[] = []

  const innocent = (text: string, allowedRule: string | null) => {
    const r = evaluate(text)
    for (const m of r.matches) {
      if (m.ruleCode === allowedRule) continue
      const f = rules.get(m.ruleCode)!
      f.falsePositives++
      f.falsePositiveTexts.push(text)
    }
    for (const t of techniques.values()) {
      if (names(r).some((d) => d.includes(t.name))) {
        t.falsePositives++
        t.falsePositiveTexts.push(text)
      }
    }
    return r
  }
  for (const text of ORDINARY) if (innocent(text, null).outcome !== 'allow') ordinaryNotAllowed.push(text)
  for (const { text } of KNOWN_FALSE_POSITIVES) innocent(text, null)
  for (const text of CONTACT) {
    const r = innocent(text, '4.e')
    const f = rules.get('4.e')!
    f.positives++
    if (r.matches.some((m) => m.ruleCode === '4.e')) f.truePositives++
    else f.missed.push(text)
  }
  for (const { text, rule, technique } of EVASIONS) {
    const r = evaluate(text)
    const match = r.matches.find((m) => m.ruleCode === rule)
    const f = rules.get(rule)!
    f.positives++
    if (match) f.truePositives++
    else f.missed.push(text)
    const t = techniques.get(technique)!
    t.positives++
    if (match?.evidence.some((e) => e.detail?.includes(technique))) t.truePositives++
    else t.missed.push(text)
  }
  return {
    rules: [...rules.values()],
    techniques: [...techniques.values()],
    ordinaryNotAllowed,
    counts: { ordinary: ORDINARY.length, knownFalsePositives: KNOWN_FALSE_POSITIVES.length, contact: CONTACT.length, evasions: EVASIONS.length },
  }
}

/** "0.95" or "-" when undefined (no positives found, no positives to find). */
export const ratio = (a: number, b: number) => (b === 0 ? '-' : (a / b).toFixed(2))

/** Table rows: name, precision, recall, TP, FP, positives. */
export function figureRows(figures: readonly Figures[]): string[][] {
  return figures.map((f) => [
    f.name,
    ratio(f.truePositives, f.truePositives + f.falsePositives),
    ratio(f.truePositives, f.positives),
    String(f.truePositives),
    String(f.falsePositives),
    String(f.positives),
  ])
}
