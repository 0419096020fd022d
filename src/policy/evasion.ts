// Evasions of term matching (docs/policy.md, "Evasions"): letters spaced out, drawn out or masked,
// words glued together, text reversed by a bidi override. Each technique here builds a DERIVED
// form of a normalized text (or reads the detector form), which the evaluator scans with the
// terms automaton. A hit in a derived form counts only when it covers a unit the technique changed
// (`marked`), so a text without the evasion gives exactly the result it gives without the
// technique, and every such hit names its technique in its evidence detail.
//
// False positives are the risk of each technique (LAW.md: over-removal is a harm), so each is
// narrow: spaced letters only as a whole run of single letters, repeated letters only in a word
// that has a run of three, masked letters only between two letters of the same word and only for a
// term of exactly that length, glued words only when the rest of the word is other terms or a
// short closed list of words (GLUE_FILLERS), never a word that merely begins with a short term.
// The corpus in test/policy/fixtures/corpus.ts measures them (npm run bench:policy).
import { AhoCorasick } from './aho-corasick.js'
import type { CompiledTerms } from './compile.js'
import { DIGIT, isLetterClass, SEP, SOFT, WORD, type NormBuffer } from './normalize.js'

/** A derived form and the units the technique changed (a hit must cover one). */
export interface DerivedForm {
  readonly buffer: NormBuffer
  readonly marked: Uint8Array
}

function derived(b: NormBuffer, n: number, codes: Uint16Array, classes: Uint8Array, start: Int32Array, end: Int32Array): NormBuffer {
  return { original: b.original, codes, classes, start, end, length: n, hasSubstitutions: b.hasSubstitutions }
}

// ---------------------------------------------------------------------------------------------
// Spaced letters: "f u c k", "f.u.c.k", "f  -  u", "k i l l you"

/** Widest gap between spaced letters, in original characters ("f - u - c - k"); no line breaks. */
export const MAX_SPACED_GAP = 3

/**
 * The form with every run of at least three single-letter words joined into one word, when the
 * gaps between them are at most MAX_SPACED_GAP characters of spaces or punctuation: "f u c k y o u"
 * becomes "fuckyou", "I will k i l l you" becomes "i will kill you". The run's letters are marked.
 * Null when the text has no such run.
 */
export function despace(b: NormBuffer): DerivedForm | null {
  if (!hasSpacedRun(b)) return null
  const n = b.length
  const cls = b.classes
  const st = b.start
  const en = b.end
  // join[g] = 1 for a separator unit between two letters of a run (dropped from the form)
  const join = new Uint8Array(n)
  let runStart = -1
  let runLength = 0
  let prev = -10
  for (let i = 0; i <= n; i++) {
    const single = i < n && isLetterClass(cls[i]!) && (i === 0 || !isLetterClass(cls[i - 1]!)) && (i + 1 === n || !isLetterClass(cls[i + 1]!))
    if (i < n && !single && !isLetterClass(cls[i]!)) continue
    if (single && runLength > 0 && i === prev + 2 && cls[prev + 1] === SEP && gapOk(b.original, st[prev + 1]!, en[prev + 1]!)) {
      runLength++
      prev = i
      continue
    }
    // the run ends (a longer word, a wide gap, the end of the text)
    if (runLength >= 3) for (let k = runStart + 1; k < prev; k += 2) join[k] = 1
    runLength = single ? 1 : 0
    runStart = i
    prev = single ? i : -10
  }
  const codes = new Uint16Array(n)
  const classes = new Uint8Array(n)
  const start = new Int32Array(n)
  const end = new Int32Array(n)
  const marked = new Uint8Array(n)
  let m = 0
  for (let i = 0; i < n; i++) {
    if (join[i] === 1) continue
    codes[m] = b.codes[i]!
    classes[m] = cls[i]!
    start[m] = st[i]!
    end[m] = en[i]!
    // a run's letters: a letter next to a joined gap
    if ((i > 0 && join[i - 1] === 1) || (i + 1 < n && join[i + 1] === 1)) marked[m] = 1
    m++
  }
  return { buffer: derived(b, m, codes, classes, start, end), marked }
}

/** Whether the text has three single-letter words in a row (the fast path: most texts do not). */
function hasSpacedRun(b: NormBuffer): boolean {
  const n = b.length
  const cls = b.classes
  let count = 0
  let prev = -10
  for (let i = 0; i < n; i++) {
    const c = cls[i]
    if (c !== WORD && c !== DIGIT && c !== SOFT) continue
    let j = i
    while (j + 1 < n && isLetterClass(cls[j + 1]!)) j++
    if (j > i) {
      count = 0
    } else {
      count = count > 0 && i === prev + 2 && cls[prev + 1] === SEP && gapOk(b.original, b.start[prev + 1]!, b.end[prev + 1]!) ? count + 1 : 1
      if (count === 3) return true
      prev = i
    }
    i = j
  }
  return false
}

function gapOk(original: string, s: number, e: number): boolean {
  if (e - s > MAX_SPACED_GAP) return false
  for (let k = s; k < e; k++) {
    const c = original.charCodeAt(k)
    if (c === 0x0a || c === 0x0d || c === 0x2028 || c === 0x2029) return false
  }
  return true
}

// ---------------------------------------------------------------------------------------------
// Repeated letters: "fuuuuck", "shiiiit", "assssshole"

/** Collapses every run of the same character to one ("kill you" -> "kil you"). */
export function squeezeString(s: string): string {
  let out = ''
  for (let i = 0; i < s.length; i++) if (i === 0 || s[i] !== s[i - 1]) out += s[i]
  return out
}

/**
 * The form with every run of the same letter inside a word collapsed to one letter, matched
 * against the terms collapsed the same way (squeezedPatterns). Only the words that have a run of
 * at least three of the same letter are marked: "fuuuuck" is read as "fuck", "class" and "as"
 * are not read as "ass". Null when no word has such a run.
 */
export function squeeze(b: NormBuffer): DerivedForm | null {
  const n = b.length
  const codes = b.codes
  const cls = b.classes
  let found = false
  for (let i = 2; i < n; i++) {
    if (codes[i] === codes[i - 1] && codes[i] === codes[i - 2] && isLetterClass(cls[i]!) && isLetterClass(cls[i - 1]!) && isLetterClass(cls[i - 2]!)) {
      found = true
      break
    }
  }
  if (!found) return null
  const out = new Uint16Array(n)
  const classes = new Uint8Array(n)
  const start = new Int32Array(n)
  const end = new Int32Array(n)
  const marked = new Uint8Array(n)
  let m = 0
  let wordStart = -1 // index in the output of the current word's first unit
  let tripled = false
  let same = 0 // length of the current run of one letter in the input
  const closeWord = () => {
    if (wordStart >= 0 && tripled) marked.fill(1, wordStart, m)
    wordStart = -1
    tripled = false
  }
  for (let i = 0; i < n; i++) {
    const letter = isLetterClass(cls[i]!)
    if (!letter) {
      closeWord()
      same = 0
    } else {
      if (wordStart < 0) wordStart = m
      if (i > 0 && isLetterClass(cls[i - 1]!) && codes[i] === codes[i - 1]) {
        same++
        if (same >= 3) tripled = true
        end[m - 1] = b.end[i]!
        continue
      }
      same = 1
    }
    out[m] = codes[i]!
    classes[m] = cls[i]!
    start[m] = b.start[i]!
    end[m] = b.end[i]!
    m++
  }
  closeWord()
  return { buffer: derived(b, m, out, classes, start, end), marked }
}

/**
 * The patterns that a squeezed text cannot contain as they are ("kill you", "ass"), collapsed
 * ("kil you", "as"), in an automaton of their own, with the index of each in `patterns`. The
 * squeezed form is scanned with both automata: the main one finds the patterns without a double
 * letter. Null when no pattern has one.
 */
export function squeezedPatterns(patterns: readonly string[]): { automaton: AhoCorasick; pattern: Int32Array } | null {
  const index: number[] = []
  const squeezed: string[] = []
  patterns.forEach((p, i) => {
    const q = squeezeString(p)
    if (q === p) return
    index.push(i)
    squeezed.push(q)
  })
  return index.length === 0 ? null : { automaton: new AhoCorasick(squeezed), pattern: Int32Array.from(index) }
}

// ---------------------------------------------------------------------------------------------
// Glued words and CamelCase: "fuckthis", "#fuckthecouncil", "#MayorIsAnIdiot"

/**
 * Words that may follow a term glued to it ("fuckyou", "fuckthis", "killyourself"). A closed list
 * of the objects of insults and threats: a glued word counts only when its other pieces are terms
 * or these words, so "therapist" is not "the" + "rapist" (a glued word starts with a term) and
 * "hello" is not "hell" + "o".
 */
export const GLUE_FILLERS: readonly string[] = [
  'you', 'u', 'ya', 'yall', 'your', 'yourself', 'yourselves', 'off', 'this', 'that', 'it', 'them', 'him', 'her', 'me',
  'all', 'everyone', 'everybody', 'the', 'up', 'out', 'city', 'mayor', 'council', 'cops',
]
/** Shortest term glued to another word: "ass" is never read inside "assassin" or "assume". */
export const MIN_GLUED_TERM = 4
/** Longest word examined for glued pieces. */
const MAX_GLUED_WORD = 64

/** Whether `s` is a sequence of pieces (terms or fillers); the empty string is. */
function segments(s: string, pieces: ReadonlySet<string>, maxPiece: number): boolean {
  if (s === '') return true
  const ok = new Uint8Array(s.length + 1)
  ok[s.length] = 1
  for (let i = s.length - 1; i >= 0; i--) {
    for (let l = 1; l <= maxPiece && i + l <= s.length; l++) {
      if (ok[i + l] === 1 && pieces.has(s.slice(i, i + l))) {
        ok[i] = 1
        break
      }
    }
  }
  return ok[0] === 1
}

/** Whether `s` starts with a glued term and the rest is pieces ("fucking" in "fuckingidiot"). */
function startsWithTerm(s: string, terms: CompiledTerms): boolean {
  for (let l = MIN_GLUED_TERM; l <= Math.min(s.length, terms.maxGluedPiece); l++) {
    if (terms.gluedTerms.has(s.slice(0, l)) && segments(s.slice(l), terms.gluedPieces, terms.maxGluedPiece)) return true
  }
  return false
}

const isLower = (c: number) => c >= 0x61 && c <= 0x7a
const isUpper = (c: number) => c >= 0x41 && c <= 0x5a

/** A CamelCase boundary before unit i: a lower-case letter, then an upper-case one ("MayorIs"). */
export function camelAt(b: NormBuffer, i: number): boolean {
  if (i <= 0 || i >= b.length) return false
  return isLower(b.original.charCodeAt(b.end[i - 1]! - 1)) && isUpper(b.original.charCodeAt(b.start[i]!))
}

/**
 * For a hit [s, e) that is not a whole word: 'camel case' when CamelCase boundaries complete it,
 * 'glued words' when the word it is in is glued pieces (terms and GLUE_FILLERS, starting with a
 * term), else null. `startOk`/`endOk`: the side is already a word boundary.
 */
export function gluedHit(terms: CompiledTerms, b: NormBuffer, p: number, s: number, e: number, startOk: boolean, endOk: boolean): 'camel case' | 'glued words' | null {
  const glueOnly = terms.patternGlued[p] === 1
  const camelStart = startOk || camelAt(b, s)
  const camelEnd = endOk || camelAt(b, e)
  if (camelStart && camelEnd) return glueOnly ? 'glued words' : 'camel case'
  if (terms.patternGluable[p] !== 1) return null
  const cls = b.classes
  // The word's bounds, looking no further than MAX_GLUED_WORD (linear on a megabyte-long word).
  let ws = s
  while (ws > 0 && isLetterClass(cls[ws - 1]!) && e - ws <= MAX_GLUED_WORD) ws--
  let we = e
  while (we < b.length && isLetterClass(cls[we]!) && we - ws <= MAX_GLUED_WORD) we++
  if (we - ws > MAX_GLUED_WORD) return null
  const text = (from: number, to: number) => String.fromCharCode(...b.codes.subarray(from, to))
  if (!camelStart && !startsWithTerm(text(ws, s), terms)) return null
  if (!camelEnd && !segments(text(e, we), terms.gluedPieces, terms.maxGluedPiece)) return null
  return 'glued words'
}

// ---------------------------------------------------------------------------------------------
// Masked letters: "f**k", "fu<k", "a**hole", "id*ot"

/** Characters read as "some letter" between two letters of a word. */
const MASKS = '*#%<(?@$!'
// Bounded repeats keep the scan linear on any input (a word of at most 64 units).
const RE_MASKED = /(?<![a-z0-9])[a-z][a-z0-9]{0,30}[*#%<(?@$!][a-z0-9*#%<(?@$!]{0,31}[a-z](?![a-z0-9])/g
/** Cheap pre-check on the original text: a mask between two characters that are not spaces or punctuation. */
export const MAYBE_MASKED = /[^\s.,;:'"()-][*#%<(?@$!]{1,8}[^\s.,;:'"()-]/
const LEET: Record<string, string> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '8': 'b' }

const maskedCache = new WeakMap<CompiledTerms, Map<number, number[]>>()

/** Single-word patterns of at least three letters, by length. */
function maskedIndex(terms: CompiledTerms): Map<number, number[]> {
  let index = maskedCache.get(terms)
  if (index === undefined) {
    index = new Map()
    terms.patterns.forEach((pattern, p) => {
      if (pattern.length < 3 || pattern.includes(' ') || terms.patternGlued[p] === 1 || !/^[a-z].*[a-z]$/.test(pattern)) return
      const list = index!.get(pattern.length)
      if (list) list.push(p)
      else index!.set(pattern.length, [p])
    })
    maskedCache.set(terms, index)
  }
  return index
}

function maskedMatches(token: string, pattern: string): boolean {
  for (let i = 0; i < token.length; i++) {
    const c = token[i]!
    const t = pattern[i]!
    if (c === t || MASKS.includes(c) || LEET[c] === t || (c === '1' && t === 'l')) continue
    return false
  }
  return true
}

/**
 * Masked words in the detector form `form` (lower case, look-alikes folded, one unit per original
 * unit): a word that starts and ends with a letter and has mask characters inside, read as a term
 * of exactly its length whose other letters are the same. Returns [start, end, pattern] in form
 * units.
 */
export function maskedWords(terms: CompiledTerms, form: string): Array<[number, number, number]> {
  const index = maskedIndex(terms)
  const out: Array<[number, number, number]> = []
  for (const m of form.matchAll(RE_MASKED)) {
    const token = m[0]
    for (const p of index.get(token.length) ?? []) {
      if (maskedMatches(token, terms.patterns[p]!)) out.push([m.index, m.index + token.length, p])
    }
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// Right-to-left override: U+202E shows the letters after it in reverse order, so "\u202Ekcuf"
// is displayed as "fuck". (Other bidi controls are dropped by the normalizer: they reorder
// runs of text, never the letters of a left-to-right word.)

const RLO = '\u202e'
const PDF = 0x202c

/**
 * The text as displayed: each span from U+202E to U+202C (or the end of the line) reversed, by
 * code point. `map[k]`: the original offset of unit k of `visual`; `reversed[k]`: 1 inside a span.
 * Null when the text has no U+202E.
 */
export function rtlOverrideVisual(text: string): { visual: string; map: Int32Array; reversed: Uint8Array } | null {
  if (!text.includes(RLO)) return null
  const n = text.length
  const units = new Uint16Array(n)
  const map = new Int32Array(n)
  const reversed = new Uint8Array(n)
  let m = 0
  let i = 0
  while (i < n) {
    if (text.charCodeAt(i) !== 0x202e) {
      units[m] = text.charCodeAt(i)
      map[m++] = i++
      continue
    }
    let j = i + 1
    while (j < n && text.charCodeAt(j) !== PDF && text[j] !== '\n' && text[j] !== '\r') j++
    // the span [i, j) backwards, by code point (a surrogate pair stays in order)
    for (let k = j - 1; k >= i; k--) {
      const low = text.charCodeAt(k)
      const pair = k > i && low >= 0xdc00 && low <= 0xdfff && text.charCodeAt(k - 1) >= 0xd800 && text.charCodeAt(k - 1) <= 0xdbff
      if (pair) {
        units[m] = text.charCodeAt(k - 1)
        map[m] = k - 1
        reversed[m++] = 1
        k--
      }
      units[m] = text.charCodeAt(pair ? k + 1 : k)
      map[m] = pair ? k + 1 : k
      reversed[m++] = 1
    }
    i = j
  }
  let visual = ''
  for (let k = 0; k < m; k += 8192) visual += String.fromCharCode(...units.subarray(k, Math.min(m, k + 8192)))
  return { visual, map, reversed }
}

/**
 * A normalized buffer of the visual text with its ranges mapped back to the original text (a
 * unit's range is the smallest original range holding its sources), and its units from reversed
 * spans marked.
 */
export function mapVisual(b: NormBuffer, original: string, map: Int32Array, reversed: Uint8Array): DerivedForm {
  const n = b.length
  const start = new Int32Array(n)
  const end = new Int32Array(n)
  const marked = new Uint8Array(n)
  for (let i = 0; i < n; i++) {
    let lo = Infinity
    let hi = -1
    for (let k = b.start[i]!; k < b.end[i]!; k++) {
      lo = Math.min(lo, map[k]!)
      hi = Math.max(hi, map[k]! + 1)
      if (reversed[k] === 1) marked[i] = 1
    }
    start[i] = lo
    end[i] = hi
  }
  const buffer: NormBuffer = {
    original,
    codes: b.codes.slice(0, n),
    classes: b.classes.slice(0, n),
    start,
    end,
    length: n,
    hasSubstitutions: b.hasSubstitutions,
  }
  return { buffer, marked }
}
