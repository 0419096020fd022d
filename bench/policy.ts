// Policy evaluation benchmark: `npm run bench:policy`
// (options: --comments N (100000) --baseline N (5000) --terms N (2000) --seed N).
//
// Generates realistic comments with a seeded pseudo-random generator (the same comments on every
// run: lengths 20-600 characters, mostly innocent, some with a banned term, a leetspeak variant,
// a phone number, an e-mail address, a street address, an SSN or a link), builds a policy version
// with the default policy's rules plus synthetic terms up to --terms words and phrases (so the
// detectors, links, repetition and regex rules of the default policy are included), evaluates
// every comment on this one thread, and compares with a BASELINE: one case-insensitive RegExp per
// term (`new RegExp('\\b' + escaped + '\\b', 'i')`, tested in a loop), run on the first
// --baseline comments and extrapolated. The baseline only looks for terms, while the engine does
// the full evaluation, so the ratio understates the engine's advantage; the engine on a version
// with the terms rules only is printed too.
// Then the evaluation corpus (test/policy/fixtures/corpus.ts) on the default policy: precision and
// recall per rule and per evasion technique (bench/lib/policy-corpus.ts); an ordinary comment of
// the corpus that is not allowed is a functional failure.
// Targets: >= 20,000 comments/s and >= 10x the baseline (a miss is reported, not fatal).
// Functional self-checks (determinism, evidence = original substring) exit non-zero on failure.
import { cpus } from 'node:os'
import { compilePolicy, type CompiledPolicy } from '../src/policy/compile.js'
import { DEFAULT_POLICY } from '../src/policy/default-policy.js'
import { evaluate, type EvaluateInput } from '../src/policy/evaluate.js'
import type { Evaluation, PolicyVersionContent, Rule } from '../src/policy/rules.js'
import { Args } from './lib/args.js'
import { corpusFigures, figureRows } from './lib/policy-corpus.js'
import { fmtInt, fmtMs, nowMs } from './lib/stats.js'
import { renderTable } from './lib/table.js'

const args = new Args()
const KNOWN = ['comments', 'baseline', 'terms', 'seed']
args.exitOnUnknown(KNOWN)
const COMMENTS = Math.max(1, Math.floor(args.number('comments', 100_000)))
const BASELINE = Math.max(1, Math.min(COMMENTS, Math.floor(args.number('baseline', 5_000))))
const TERMS = Math.floor(args.number('terms', 2_000))
const SEED = Math.floor(args.number('seed', 20261124))

// ---------------------------------------------------------------------------------------------
// Deterministic pseudo-random generator (mulberry32)

function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const rand = mulberry32(SEED)
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!
const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1))

// ---------------------------------------------------------------------------------------------
// Comments

const SUBJECTS = [
  'The city council', 'Our mayor', 'Public works', 'The water department', 'The new library', 'The park district',
  'The police department', 'Whoever plans the snow routes', 'The school board', 'My neighbor', 'The fire department',
  'The street crew', 'The planning commission', 'The farmers market', 'The bus service', 'Code enforcement',
]
const VERBS = [
  'did a great job on', 'should fix', 'needs to look at', 'finally repaired', 'is ignoring', 'should explain',
  'did nothing about', 'deserves credit for', 'keeps postponing', 'should reconsider', 'has to budget for', 'announced',
]
const OBJECTS = [
  'the potholes on Washington Ave', 'the flooding near the river', 'the property tax assessment', 'the Court Street bridge',
  'the classic car show', 'the trash pickup schedule', 'the broken streetlights', 'the new bike lanes', 'the water bills',
  'the Fourth of July fireworks', 'the dog park', 'the zoning change on Station St', 'the budget hearing', 'the sidewalks',
  'the passenger rail proposal', 'the grass along the highway', 'the bass fishing tournament', 'the therapist shortage',
  'the cockpit tour at the airport', 'the Scunthorpe sister city visit', 'the glass recycling program', 'downtown parking',
]
const TAILS = [
  'Thank you!', 'Please do better.', 'Who is accountable?', 'Great work, everyone.', 'This is unacceptable.',
  'When will it be done?', 'Keep it up!', 'Taxes keep going up and nothing changes.', 'Love this town.', '👍',
  'Ça va mieux, merci.', 'Muy bien hecho.', '🎉🎉', 'Any update?', 'I called twice and nobody answered.',
  'The meeting is at 7:30 pm on Nov 12.', 'It cost $25 to park.', 'Since 2019 nothing happened.', 'My kids walk there every day.',
]
const FILLER = [
  'honestly', 'again', 'this year', 'last week', 'on our block', 'near the school', 'after the storm', 'for months',
  'like everyone said', 'in my opinion', 'as a resident for 30 years', 'on the east side', 'downtown', 'by the river',
]

function sentence(): string {
  const s = `${pick(SUBJECTS)} ${pick(VERBS)} ${pick(OBJECTS)}`
  return rand() < 0.5 ? `${s} ${pick(FILLER)}. ${pick(TAILS)}` : `${s}. ${pick(TAILS)}`
}

function targetLength(): number {
  const r = rand()
  if (r < 0.7) return int(20, 200)
  if (r < 0.95) return int(200, 400)
  return int(400, 600)
}

function fitTo(text: string, length: number): string {
  if (text.length <= length) return text
  const cut = text.lastIndexOf(' ', length)
  return text.slice(0, cut > 10 ? cut : length)
}

/** A comment with something a rule should catch, and which kind. */
function injection(terms: readonly string[], synthetic: readonly string[]): string {
  const r = rand()
  if (r < 0.25) return pick(terms)
  if (r < 0.35) return leet(pick(terms))
  if (r < 0.5) return pick(synthetic)
  if (r < 0.6) return `call me at ${pick(['(815) 555-0142', '815.555.0199', '+1 815 555 0123', '8155550111'])}`
  if (r < 0.68) return `email ${pick(['jane.doe', 'bob', 'kk_resident'])}@${pick(['example.com', 'mail.example.org'])}`
  if (r < 0.76) return `they live at ${int(100, 2999)} ${pick(['N', 'S', 'E', 'W', ''])} ${pick(['Main', 'Court', 'Oak', 'Station'])} ${pick(['St', 'Street', 'Ave', 'Rd'])}`.replace(/ {2}/g, ' ')
  if (r < 0.8) return `my SSN is ${int(100, 599)}-${int(10, 99)}-${int(1000, 9999)}`
  if (r < 0.9) return `see ${pick(['bit.ly/3xYz9', 'https://tinyurl.com/abc123', 'http://login.phish.example/verify', 'malware.example/free'])}`
  return `${pick(['s h i t', 'S.H.I.T', 'ѕhit', 'sh\u200dit', 'FÜCK', 'kill-you'])}`
}

const LEET: Record<string, string> = { a: '@', e: '3', i: '1', o: '0', s: '$', t: '7' }
function leet(term: string): string {
  let out = ''
  for (const ch of term) out += rand() < 0.4 && LEET[ch] !== undefined ? LEET[ch] : ch
  return out
}

// ---------------------------------------------------------------------------------------------
// Synthetic terms

const ONSETS = ['b', 'br', 'd', 'dr', 'f', 'g', 'gl', 'k', 'kr', 'm', 'n', 'p', 'pl', 'qu', 'sk', 'sn', 'tr', 'v', 'z', 'zh']
const VOWELS = ['a', 'e', 'o', 'u', 'oo', 'ei', 'ax', 'ug']

function syntheticTerms(count: number, avoid: ReadonlySet<string>): string[] {
  const out = new Set<string>()
  const word = () => {
    let w = ''
    const syllables = int(2, 4)
    for (let k = 0; k < syllables; k++) w += pick(ONSETS) + pick(VOWELS)
    return w
  }
  while (out.size < count) {
    const term = rand() < 0.3 ? `${word()} ${word()}` : word()
    if (!avoid.has(term)) out.add(term)
  }
  return [...out]
}

// ---------------------------------------------------------------------------------------------
// Setup

const defaultTerms = DEFAULT_POLICY.rules.flatMap((r) => (r.matcher.type === 'terms' ? r.matcher.terms : []))
const synthetic = syntheticTerms(Math.max(0, TERMS - defaultTerms.length), new Set(defaultTerms))
const syntheticRule: Rule = {
  code: '9.z',
  title: 'Synthetic benchmark terms',
  sectionText: 'Generated terms for the benchmark.',
  category: 'other',
  action: 'flag',
  noticeTemplate: 'Held for review under {ruleCode} ({ruleTitle}). Policy: {policyUrl}. Appeals: {appealUrl}.',
  matcher: { type: 'terms', terms: synthetic },
}
const benchContent: PolicyVersionContent = { ...DEFAULT_POLICY, rules: [...DEFAULT_POLICY.rules, syntheticRule] }
const termsOnlyContent: PolicyVersionContent = { ...benchContent, rules: benchContent.rules.filter((r) => r.matcher.type === 'terms') }
const allTerms = [...defaultTerms, ...synthetic]

// Compiled before the comments are generated, so that the garbage of compiling is collected
// before the timed runs rather than during the first one.
const compileStart = nowMs()
const compiled = compilePolicy(benchContent, 'bench')
const compileMs = nowMs() - compileStart
const termsOnly = compilePolicy(termsOnlyContent, 'bench-terms')

const genStart = nowMs()
const comments: EvaluateInput[] = []
/** Comments with nothing a rule should catch (no injection, no repeated history). */
const innocent: boolean[] = []
const base = Date.parse('2026-11-24T12:00:00Z')
for (let i = 0; i < COMMENTS; i++) {
  const length = targetLength()
  let text = sentence()
  while (text.length < length) text += ' ' + sentence()
  text = fitTo(text, length)
  let clean = true
  if (rand() < 0.1) {
    clean = false
    const inject = injection(defaultTerms, synthetic)
    const words = text.split(' ')
    words.splice(int(0, words.length), 0, inject)
    text = words.join(' ')
  }
  const platformTime = new Date(base + i * 1000).toISOString()
  const input: EvaluateInput = { text, platformTime }
  if (rand() < 0.1) {
    // An author with recent comments; sometimes the same comment again (flooding).
    const again = rand() < 0.3
    if (again) clean = false
    input.authorHistory = [1, 2, 3].map((k) => ({
      text: again ? text : sentence(),
      platformTime: new Date(base + i * 1000 - k * 120_000).toISOString(),
    }))
  }
  comments.push(input)
  innocent.push(clean)
}
const genMs = nowMs() - genStart
const chars = comments.reduce((sum, c) => sum + (c.text?.length ?? 0), 0)


// ---------------------------------------------------------------------------------------------
// Runs

interface EngineRun {
  ms: number
  outcomes: Record<string, number>
  /** Evaluations kept for the self-checks (every SAMPLE-th comment; keeping all would load the GC). */
  sampled: Map<number, Evaluation>
  /** Comments (among the first BASELINE) with at least one match. */
  matchedInBaselineRange: number
  /** Innocent comments that were not allowed. */
  falsePositives: Evaluation[]
}
const SAMPLE = 97

function runEngine(policy: CompiledPolicy, inputs: readonly EvaluateInput[]): EngineRun {
  for (let i = 0; i < Math.min(2000, inputs.length); i++) evaluate(policy, inputs[i]!) // warm-up (JIT)
  const run: EngineRun = { ms: 0, outcomes: { allow: 0, flag: 0, remove: 0 }, sampled: new Map(), matchedInBaselineRange: 0, falsePositives: [] }
  const start = nowMs()
  for (let i = 0; i < inputs.length; i++) {
    const r = evaluate(policy, inputs[i]!)
    run.outcomes[r.outcome]!++
    if (i % SAMPLE === 0) run.sampled.set(i, r)
    if (i < BASELINE && r.matches.length > 0) run.matchedInBaselineRange++
    if (innocent[i] && r.outcome !== 'allow') run.falsePositives.push(r)
  }
  run.ms = nowMs() - start
  return run
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
const baselineRegexes = allTerms.map((t) => new RegExp('\\b' + escape(t) + '\\b', 'i'))
function runBaseline(inputs: readonly EvaluateInput[]): { ms: number; withHit: number } {
  for (let i = 0; i < Math.min(200, inputs.length); i++) for (const re of baselineRegexes) re.test(inputs[i]!.text ?? '') // warm-up
  let withHit = 0
  const start = nowMs()
  for (const input of inputs) {
    const text = input.text ?? ''
    let hit = false
    for (const re of baselineRegexes) if (re.test(text)) hit = true
    if (hit) withHit++
  }
  return { ms: nowMs() - start, withHit }
}

const engine = runEngine(compiled, comments)
const engineTerms = runEngine(termsOnly, comments)
const baseline = runBaseline(comments.slice(0, BASELINE))

// Functional self-checks
let failures = 0
for (const [i, first] of engine.sampled) {
  const again = evaluate(compiled, comments[i]!)
  if (JSON.stringify(again) !== JSON.stringify(first)) {
    console.error(`FAIL: comment ${i} evaluated differently twice`)
    failures++
  }
  for (const m of again.matches) {
    for (const e of m.evidence) {
      if (comments[i]!.text!.slice(e.start, e.end) !== e.text) {
        console.error(`FAIL: comment ${i} rule ${m.ruleCode}: evidence text is not the original substring`)
        failures++
      }
    }
  }
}
// The evaluation corpus (test/policy/fixtures/corpus.ts) on the default policy alone.
const defaultCompiled = compilePolicy(DEFAULT_POLICY, 'default')
const corpus = corpusFigures(
  DEFAULT_POLICY.rules.map((r) => r.code),
  (text) => evaluate(defaultCompiled, { text }),
)
for (const text of corpus.ordinaryNotAllowed) console.error(`FAIL: ordinary corpus comment not allowed: ${JSON.stringify(text)}`)
failures += corpus.ordinaryNotAllowed.length

const falsePositives = engine.falsePositives
for (const r of falsePositives.slice(0, 5)) console.error(`FAIL: innocent comment not allowed: ${JSON.stringify(r.matches)}`)
failures += falsePositives.length
const innocentCount = innocent.filter(Boolean).length
const termsHit = engineTerms.matchedInBaselineRange

// ---------------------------------------------------------------------------------------------
// Report

const rate = (n: number, ms: number) => (n / ms) * 1000
const engineRate = rate(COMMENTS, engine.ms)
const engineTermsRate = rate(COMMENTS, engineTerms.ms)
const baselineRate = rate(BASELINE, baseline.ms)
const cpu = cpus()[0]?.model ?? 'unknown CPU'

console.log(`# Policy evaluation benchmark — ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} cores (${cpu}), one thread`)
console.log(
  `comments: ${fmtInt(COMMENTS)} (seed ${SEED}, ${fmtInt(chars / COMMENTS)} chars average, generated in ${fmtMs(genMs)}); ` +
    `terms: ${fmtInt(allTerms.length)} (${fmtInt(defaultTerms.length)} default + ${fmtInt(synthetic.length)} synthetic), ` +
    `automaton ${fmtInt(compiled.terms?.automaton.stateCount ?? 0)} states, compiled in ${fmtMs(compileMs)}`,
)
console.log(
  `outcomes (full policy): allow ${fmtInt(engine.outcomes.allow!)}, flag ${fmtInt(engine.outcomes.flag!)}, remove ${fmtInt(engine.outcomes.remove!)}; ` +
    `first ${fmtInt(BASELINE)} comments with a term hit: engine ${fmtInt(termsHit)}, baseline ${fmtInt(baseline.withHit)} ` +
    `(the engine also sees leetspeak, look-alikes, zero-width characters and spaced letters)`,
)
console.log(
  `innocent comments (nothing injected, no repeats): ${fmtInt(innocentCount)}, of which not allowed: ${fmtInt(falsePositives.length)} ` +
    `(they include "assessment", "classic", "passenger", "therapist", "cockpit", "Scunthorpe", prices, times and dates)`,
)
console.log('')
console.log(
  renderTable(
    ['run', 'comments', 'time', 'comments/s', 'MB/s'],
    [
      ['engine, full policy (terms + detectors + links + regex + repetition)', fmtInt(COMMENTS), fmtMs(engine.ms), fmtInt(engineRate), (chars / engine.ms / 1000).toFixed(1)],
      ['engine, terms rules only', fmtInt(COMMENTS), fmtMs(engineTerms.ms), fmtInt(engineTermsRate), (chars / engineTerms.ms / 1000).toFixed(1)],
      [
        `baseline, ${fmtInt(baselineRegexes.length)} RegExps (first ${fmtInt(BASELINE)} comments, extrapolated)`,
        fmtInt(BASELINE),
        fmtMs(baseline.ms),
        fmtInt(baselineRate),
        '',
      ],
    ],
    { rightAlign: [1, 2, 3, 4] },
  ),
)
console.log('')
const c = corpus.counts
console.log(
  `evaluation corpus (test/policy/fixtures/corpus.ts), default policy: ${c.ordinary} ordinary comments, ${c.knownFalsePositives} known false ` +
    `positives of the term lists, ${c.contact} with contact information (4.e), ${c.evasions} evasions`,
)
const header = ['', 'precision', 'recall', 'TP', 'FP', 'positives']
const withPositives = corpus.rules.filter((f) => f.positives > 0 || f.falsePositives > 0)
console.log(renderTable(['rule', ...header.slice(1)], figureRows(withPositives), { rightAlign: [1, 2, 3, 4, 5] }))
console.log('')
console.log(renderTable(['technique', ...header.slice(1)], figureRows(corpus.techniques), { rightAlign: [1, 2, 3, 4, 5] }))
for (const f of [...corpus.rules, ...corpus.techniques]) {
  for (const text of f.falsePositiveTexts) console.log(`  false positive of ${f.name}: ${JSON.stringify(text)}`)
  for (const text of f.missed) console.log(`  missed by ${f.name}: ${JSON.stringify(text)}`)
}
console.log('')
const ratio = engineRate / baselineRate
console.log(`baseline extrapolated to ${fmtInt(COMMENTS)} comments: ${fmtMs((COMMENTS / baselineRate) * 1000)}`)
console.log(`ratio full engine / baseline: ${ratio.toFixed(1)}x; terms-only engine / baseline: ${(engineTermsRate / baselineRate).toFixed(1)}x`)
console.log(`target >= 20,000 comments/s: ${engineRate >= 20_000 ? 'MET' : 'MISS'}; target >= 10x baseline: ${ratio >= 10 ? 'MET' : 'MISS'}`)
if (failures > 0) {
  console.error(`${failures} functional check(s) failed`)
  process.exit(1)
}
