// Text normalization for policy matching, with an exact offset map back to the original string.
//
// Every UTF-16 code unit of a normalized text carries the [start, end) range (UTF-16 offsets) of
// the ORIGINAL text it came from, so evidence found in the normalized form can cite the original
// text exactly: `original.slice(map.start[a], map.end[b - 1])` for a normalized range [a, b).
//
// Per code point, the folding is:
//   1. default-ignorable and format characters (ZWSP/ZWNJ/ZWJ U+200B..U+200D, WORD JOINER U+2060,
//      BOM U+FEFF, SOFT HYPHEN U+00AD, bidi controls, variation selectors, tag characters...) are
//      dropped; a dropped combining mark or variation selector is attached to the previous
//      character (its range grows), so "cafe\u0301" cites all five code units;
//   2. look-alikes (Cyrillic, Greek, small capitals, a few Latin letters) are mapped to ASCII
//      (CONFUSABLES below), before and after case folding because some upper- and lower-case
//      forms differ (Greek Η looks like H, η like n);
//   3. NFKD (fullwidth forms, ligatures, mathematical alphanumerics, circled letters...),
//      toLowerCase, and nonspacing/enclosing marks (accents, Arabic harakat, Hebrew niqqud) removed.
// Then each output unit gets a class: SEP (whitespace, punctuation, controls, ASCII and
// mathematical/currency symbols), WORD (letters, spacing marks), DIGIT, SOLO (a "word by itself":
// emoji and other symbols, and the scripts written without spaces: Han, Hiragana, Katakana, Thai,
// Lao, Khmer, Myanmar), SOFT (a leetspeak punctuation letter, substitution form only). Word
// boundaries are between a letter-class unit (WORD, DIGIT, SOFT) and any other unit, and on both
// sides of a SOLO unit; so emoji, CJK and right-to-left text are kept intact and never glue to a
// neighbouring word.
//
// Three forms:
//   base          folded; every run of separators is collapsed to one ' ' (whose range covers the
//                 whole run); an apostrophe between two letters is dropped ("don't" -> "dont"),
//                 elsewhere it is a separator.
//   substitution  like base, plus leetspeak for term matching only: 0->o 3->e 4->a 5->s 7->t 8->b
//                 (class DIGIT), @->a $->s !->i |->l +->t (SOFT: a letter that may also be
//                 punctuation at the edge of a word, "shit!"). '1' stays '1': terms are expanded so
//                 that each i or l may be written 1 (see compile.ts). Never used for detectors.
//                 The base form reports `hasSubstitutions` when a leetspeak character touches a
//                 letter ("sh1t", "$hit", "a$$", "sh!t"; not "$25", "2019" or "you!"), and only
//                 then does the evaluator scan this form too.
//   detector      folded but separators kept one for one (phone numbers, e-mail, links).

/** Unit classes. SEP: separator; WORD: letter (or spacing mark); SOLO: a word by itself (emoji,
 * symbols, Han/Kana/Thai...); SOFT: leetspeak punctuation read as a letter (substitution form);
 * DIGIT: a digit (in the substitution form, mapped to the letter it stands for). */
export const SEP = 0
export const WORD = 1
export const SOLO = 2
export const SOFT = 3
/** Internal: an apostrophe, resolved to "dropped" or SEP by the collapsing forms. */
const APOS = 4
export const DIGIT = 5

export type NormalizeMode = 'base' | 'substitution' | 'detector'
const MODE_BASE = 0
const MODE_SUB = 1
const MODE_DETECTOR = 2
const modeIndex = (mode: NormalizeMode): number => (mode === 'base' ? MODE_BASE : mode === 'substitution' ? MODE_SUB : MODE_DETECTOR)

// ---------------------------------------------------------------------------------------------
// Tables

/** Look-alike characters -> ASCII. Keys in both cases where the two cases look different. */
const CONFUSABLE_PAIRS: ReadonlyArray<readonly [string, string]> = [
  // Cyrillic upper case
  ['А', 'A'], ['В', 'B'], ['Е', 'E'], ['К', 'K'], ['М', 'M'], ['Н', 'H'], ['О', 'O'], ['Р', 'P'], ['С', 'C'],
  ['Т', 'T'], ['У', 'Y'], ['Х', 'X'], ['Ѕ', 'S'], ['І', 'I'], ['Ј', 'J'], ['Һ', 'H'], ['Ӏ', 'I'], ['Ԛ', 'Q'],
  ['Ԝ', 'W'], ['Ү', 'Y'],
  // Cyrillic lower case
  ['а', 'a'], ['в', 'b'], ['е', 'e'], ['к', 'k'], ['м', 'm'], ['н', 'h'], ['о', 'o'], ['р', 'p'], ['с', 'c'],
  ['т', 't'], ['у', 'y'], ['х', 'x'], ['ѕ', 's'], ['і', 'i'], ['ј', 'j'], ['һ', 'h'], ['ӏ', 'l'], ['ԁ', 'd'],
  ['ԛ', 'q'], ['ԝ', 'w'], ['ү', 'y'],
  // Greek upper case
  ['Α', 'A'], ['Β', 'B'], ['Ε', 'E'], ['Ζ', 'Z'], ['Η', 'H'], ['Ι', 'I'], ['Κ', 'K'], ['Μ', 'M'], ['Ν', 'N'],
  ['Ο', 'O'], ['Ρ', 'P'], ['Τ', 'T'], ['Υ', 'Y'], ['Χ', 'X'],
  // Greek lower case
  ['α', 'a'], ['β', 'b'], ['γ', 'y'], ['ε', 'e'], ['η', 'n'], ['ι', 'i'], ['κ', 'k'], ['ν', 'v'], ['ο', 'o'],
  ['ρ', 'p'], ['τ', 't'], ['υ', 'u'], ['χ', 'x'], ['ω', 'w'],
  // Latin letters without a decomposition, IPA and small capitals
  ['ı', 'i'], ['ȷ', 'j'], ['ɑ', 'a'], ['ɡ', 'g'], ['ɩ', 'i'], ['ø', 'o'], ['ł', 'l'], ['đ', 'd'], ['ħ', 'h'],
  ['ŧ', 't'], ['ß', 'ss'], ['æ', 'ae'], ['œ', 'oe'], ['ð', 'd'], ['ƒ', 'f'], ['ɪ', 'i'], ['ʏ', 'y'], ['ɴ', 'n'],
  ['ʀ', 'r'], ['ᴀ', 'a'], ['ʙ', 'b'], ['ᴄ', 'c'], ['ᴅ', 'd'], ['ᴇ', 'e'], ['ɢ', 'g'], ['ʜ', 'h'], ['ᴊ', 'j'],
  ['ᴋ', 'k'], ['ʟ', 'l'], ['ᴍ', 'm'], ['ᴏ', 'o'], ['ᴘ', 'p'], ['ꜱ', 's'], ['ᴛ', 't'], ['ᴜ', 'u'], ['ᴠ', 'v'],
  ['ᴡ', 'w'], ['ᴢ', 'z'],
  // Armenian
  ['օ', 'o'], ['ս', 'u'],
]
const CONFUSABLES = new Map<number, string>(CONFUSABLE_PAIRS.map(([from, to]) => [from.codePointAt(0)!, to]))

/** Leetspeak substitutions of the substitution form, and whether the source is punctuation (SOFT). */
const SUBSTITUTIONS: ReadonlyArray<readonly [string, string, boolean]> = [
  ['0', 'o', false], ['3', 'e', false], ['4', 'a', false], ['5', 's', false], ['7', 't', false], ['8', 'b', false],
  ['@', 'a', true], ['$', 's', true], ['!', 'i', true], ['|', 'l', true], ['+', 't', true],
]
/** Characters whose presence makes the substitution form differ from the base form. */
const SUBSTITUTION_SOURCES = '0123456789@$!|+'

const APOSTROPHES = new Set([0x27, 0x2019, 0x02bc])

const ASCII_CODE: Uint16Array[] = [new Uint16Array(128), new Uint16Array(128), new Uint16Array(128)]
const ASCII_CLASS: Uint8Array[] = [new Uint8Array(128), new Uint8Array(128), new Uint8Array(128)]
const ASCII_SUB_SOURCE = new Uint8Array(128)
/** 1: a letter (ASCII letter or any non-ASCII unit), for the "is a substitution inside a word" test. */
const ASCII_LETTERISH = new Uint8Array(128)
for (let c = 0; c < 128; c++) {
  const lower = c >= 0x41 && c <= 0x5a ? c + 32 : c
  const letter = lower >= 0x61 && lower <= 0x7a
  const digit = c >= 0x30 && c <= 0x39
  ASCII_LETTERISH[c] = letter ? 1 : 0
  for (const m of [MODE_BASE, MODE_SUB, MODE_DETECTOR]) {
    ASCII_CODE[m]![c] = lower
    ASCII_CLASS[m]![c] = letter ? WORD : digit ? DIGIT : c === 0x27 && m !== MODE_DETECTOR ? APOS : SEP
  }
}
for (const [from, to, soft] of SUBSTITUTIONS) {
  ASCII_CODE[MODE_SUB]![from.charCodeAt(0)] = to.charCodeAt(0)
  if (soft) ASCII_CLASS[MODE_SUB]![from.charCodeAt(0)] = SOFT
}
/** 1: "$" and "@" (a substitution when next to a letter on either side); 2: a digit (either side);
 * 3: "!", "|", "+" (only when a letter follows: "sh!t", "!diot", not "you!"). */
for (const ch of SUBSTITUTION_SOURCES) ASCII_SUB_SOURCE[ch.charCodeAt(0)] = ch === '$' || ch === '@' ? 1 : ch >= '0' && ch <= '9' ? 2 : 3
const isLetterish = (c: number) => c >= 128 || ASCII_LETTERISH[c] === 1

const RE_DROPPED = /^[\p{Default_Ignorable_Code_Point}\p{Cf}]$/u
const RE_MARK = /^[\p{Mn}\p{Me}]$/u
const RE_STRIP = /[\p{Mn}\p{Me}\p{Default_Ignorable_Code_Point}\p{Cf}]/gu
const RE_SEP = /^[\p{White_Space}\p{Z}\p{P}\p{Cc}\p{Sm}\p{Sc}]$/u
const RE_SOLO_SCRIPT = /^[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}\p{scx=Bopomofo}\p{scx=Thai}\p{scx=Lao}\p{scx=Khmer}\p{scx=Myanmar}]$/u
const RE_WORD = /^[\p{L}\p{N}\p{Mc}]$/u

/** Class of one folded, non-ASCII code point. */
function classifyCodePoint(cp: number): number {
  if (APOSTROPHES.has(cp)) return APOS
  const ch = String.fromCodePoint(cp)
  if (RE_SEP.test(ch)) return SEP
  if (RE_SOLO_SCRIPT.test(ch)) return SOLO
  if (RE_WORD.test(ch)) return WORD
  return SOLO // emoji and other symbols, private use, unassigned, lone surrogates
}

function confuse(s: string): string {
  let out = ''
  for (const ch of s) out += CONFUSABLES.get(ch.codePointAt(0)!) ?? ch
  return out
}

/** The folding of one non-ASCII code point: output units and their classes, or dropped. */
interface Folded {
  readonly units: Uint16Array
  readonly classes: Uint8Array
  /** Dropped, and the original range is added to the previous output unit (a combining mark). */
  readonly attach: boolean
}

const foldCache = new Map<number, Folded>()
const EMPTY16 = new Uint16Array(0)
const EMPTY8 = new Uint8Array(0)

function foldCodePoint(cp: number): Folded {
  const cached = foldCache.get(cp)
  if (cached !== undefined) return cached
  const ch = String.fromCodePoint(cp)
  let folded: Folded
  if (RE_DROPPED.test(ch) || RE_MARK.test(ch)) {
    folded = { units: EMPTY16, classes: EMPTY8, attach: RE_MARK.test(ch) }
  } else {
    let s = confuse(ch.normalize('NFKD'))
    s = s.toLowerCase().normalize('NFKD').replace(RE_STRIP, '')
    s = confuse(s)
    if (s === '') {
      folded = { units: EMPTY16, classes: EMPTY8, attach: true }
    } else {
      const units = new Uint16Array(s.length)
      const classes = new Uint8Array(s.length)
      let k = 0
      for (const part of s) {
        const pcp = part.codePointAt(0)!
        const c = pcp < 128 ? -1 : classifyCodePoint(pcp) // ASCII output is classified per mode at emission
        for (let j = 0; j < part.length; j++) {
          units[k] = part.charCodeAt(j)
          classes[k] = c < 0 ? 255 : c
          k++
        }
      }
      folded = { units, classes, attach: false }
    }
  }
  // The cache is bounded by the number of distinct code points seen; cap it anyway.
  if (foldCache.size < 200_000) foldCache.set(cp, folded)
  return folded
}

// ---------------------------------------------------------------------------------------------
// The normalizer

/** Internal result: typed arrays, `length` units used (the arrays may be longer). */
export interface NormBuffer {
  readonly original: string
  readonly codes: Uint16Array
  readonly classes: Uint8Array
  readonly start: Int32Array
  readonly end: Int32Array
  readonly length: number
  /**
   * base form only: the text has a leetspeak character inside or at the edge of a word ("sh1t",
   * "$hit", "a$$", "sh!t"), so the substitution form can find more than the base form.
   */
  readonly hasSubstitutions: boolean
}

/** Output arrays of the normalizer; reusable across calls (see normalizeBuffer). */
export class NormWriter {
  codes: Uint16Array
  classes: Uint8Array
  start: Int32Array
  end: Int32Array
  n = 0
  #cap: number
  #pendingStart = -1
  #pendingEnd = -1

  constructor(capacity = 256) {
    this.#cap = Math.max(16, capacity)
    this.codes = new Uint16Array(this.#cap)
    this.classes = new Uint8Array(this.#cap)
    this.start = new Int32Array(this.#cap)
    this.end = new Int32Array(this.#cap)
  }

  reset(capacity: number): void {
    if (this.#cap < capacity) {
      this.#cap = capacity
      this.codes = new Uint16Array(capacity)
      this.classes = new Uint8Array(capacity)
      this.start = new Int32Array(capacity)
      this.end = new Int32Array(capacity)
    }
    this.n = 0
    this.#pendingStart = -1
  }

  #grow(): void {
    const cap = this.#cap * 2
    const codes = new Uint16Array(cap)
    codes.set(this.codes)
    this.codes = codes
    const classes = new Uint8Array(cap)
    classes.set(this.classes)
    this.classes = classes
    const start = new Int32Array(cap)
    start.set(this.start)
    this.start = start
    const end = new Int32Array(cap)
    end.set(this.end)
    this.end = end
    this.#cap = cap
  }

  push(code: number, cls: number, s: number, e: number): void {
    if (this.n === this.#cap) this.#grow()
    const n = this.n
    this.codes[n] = code
    this.classes[n] = cls
    this.start[n] = s
    this.end[n] = e
    this.n = n + 1
  }

  pushSep(s: number, e: number): void {
    if (this.n > 0 && this.classes[this.n - 1] === SEP) this.end[this.n - 1] = e
    else this.push(0x20, SEP, s, e)
  }

  get hasPending(): boolean {
    return this.#pendingStart >= 0
  }

  /** Emits one unit, collapsing separators and resolving apostrophes. */
  emitCollapsing(code: number, cls: number, s: number, e: number): void {
    if (cls === APOS) {
      if (this.#pendingStart >= 0) {
        this.pushSep(this.#pendingStart, this.#pendingEnd)
        this.#pendingStart = -1
        this.pushSep(s, e)
      } else if (this.n > 0 && isLetterClass(this.classes[this.n - 1]!)) {
        this.#pendingStart = s
        this.#pendingEnd = e
      } else {
        this.pushSep(s, e)
      }
      return
    }
    if (this.#pendingStart >= 0) {
      if (!isLetterClass(cls)) this.pushSep(this.#pendingStart, this.#pendingEnd)
      this.#pendingStart = -1
    }
    if (cls === SEP) this.pushSep(s, e)
    else this.push(code, cls, s, e)
  }

  finish(): void {
    if (this.#pendingStart >= 0) {
      this.pushSep(this.#pendingStart, this.#pendingEnd)
      this.#pendingStart = -1
    }
  }
}

/** WORD, SOFT or DIGIT: units that join into one word. */
export const isLetterClass = (c: number): boolean => c === WORD || c === SOFT || c === DIGIT

/**
 * Normalizes `text` into typed arrays (the hot path; see `normalize` for the public form). With a
 * `writer`, its arrays are reused: the result is valid until the writer's next use.
 */
export function normalizeBuffer(text: string, mode: NormalizeMode, writer?: NormWriter): NormBuffer {
  const m = modeIndex(mode)
  const aCode = ASCII_CODE[m]!
  const aClass = ASCII_CLASS[m]!
  const collapse = m !== MODE_DETECTOR
  const len = text.length
  const w = writer ?? new NormWriter(len + 16)
  w.reset(len + 16)
  let hasSubstitutions = false

  for (let i = 0; i < len; ) {
    const c = text.charCodeAt(i)
    if (c < 128) {
      const cls = aClass[c]!
      const src = ASCII_SUB_SOURCE[c]!
      if (src !== 0 && !hasSubstitutions) {
        const next = i + 1 < len ? text.charCodeAt(i + 1) : 0x20
        const prev = i > 0 ? text.charCodeAt(i - 1) : 0x20
        hasSubstitutions = src === 3 ? isLetterish(next) : isLetterish(next) || isLetterish(prev)
      }
      if (!collapse) {
        w.push(aCode[c]!, cls, i, i + 1)
      } else if (cls === SEP && !w.hasPending) {
        const n = w.n
        if (n > 0 && w.classes[n - 1] === SEP) w.end[n - 1] = i + 1
        else w.push(0x20, SEP, i, i + 1)
      } else if ((cls === WORD || cls === DIGIT) && !w.hasPending) {
        w.push(aCode[c]!, cls, i, i + 1)
      } else {
        w.emitCollapsing(aCode[c]!, cls, i, i + 1)
      }
      i++
      continue
    }
    let cp = c
    let size = 1
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < len) {
      const d = text.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) {
        cp = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000
        size = 2
      }
    }
    const folded = foldCodePoint(cp)
    const units = folded.units
    if (units.length === 0) {
      if (folded.attach && w.n > 0) w.end[w.n - 1] = i + size
    } else {
      for (let k = 0; k < units.length; k++) {
        const u = units[k]!
        let code = u
        let cls = folded.classes[k]!
        if (u < 128) {
          if (ASCII_SUB_SOURCE[u] !== 0) hasSubstitutions = true
          code = aCode[u]!
          cls = aClass[u]!
        } else if (!collapse && cls === APOS) {
          cls = SEP
        }
        if (collapse) w.emitCollapsing(code, cls, i, i + size)
        else w.push(code, cls, i, i + size)
      }
    }
    i += size
  }
  w.finish()
  return { original: text, codes: w.codes, classes: w.classes, start: w.start, end: w.end, length: w.n, hasSubstitutions }
}

/** Decodes `length` UTF-16 units into a string (chunked: no argument-count limit). */
export function unitsToString(codes: Uint16Array, from: number, to: number): string {
  let out = ''
  for (let i = from; i < to; i += 8192) out += String.fromCharCode.apply(null, codes.subarray(i, Math.min(to, i + 8192)) as unknown as number[])
  return out
}

/** A normalized text with its offset map (public, test- and debug-friendly form). */
export interface NormalizedText {
  readonly original: string
  readonly mode: NormalizeMode
  /** The normalized text. */
  readonly text: string
  /** For each UTF-16 unit of `text`: the start (inclusive) of its source in `original`. */
  readonly start: Int32Array
  /** For each UTF-16 unit of `text`: the end (exclusive) of its source in `original`. */
  readonly end: Int32Array
  /** For each UTF-16 unit of `text`: SEP, WORD, SOLO or SOFT. */
  readonly classes: Uint8Array
  /** The original range of the normalized range [start, end) (end > start). */
  toOriginal(start: number, end: number): { start: number; end: number }
}

/** Normalizes `text` (see the top of this file for the three forms). */
export function normalize(text: string, mode: NormalizeMode = 'base'): NormalizedText {
  const b = normalizeBuffer(text, mode)
  const start = b.start.slice(0, b.length)
  const end = b.end.slice(0, b.length)
  return {
    original: text,
    mode,
    text: unitsToString(b.codes, 0, b.length),
    start,
    end,
    classes: b.classes.slice(0, b.length),
    toOriginal(s: number, e: number) {
      if (!(s >= 0 && e > s && e <= start.length)) throw new RangeError(`normalized range [${s}, ${e}) out of bounds`)
      return { start: start[s]!, end: end[e - 1]! }
    },
  }
}

const TERM_TRAILING_PUNCT = new Set([0x21, 0x7c, 0x2b])

/**
 * The matching form of a policy term or phrase: substitution form (or `mode`), separators
 * collapsed, trimmed.
 * Empty when nothing matchable is left (a term of punctuation only). Trailing "!", "|" and "+"
 * are dropped (punctuation there); "$" and "@" stay letters ("a$$" is "ass").
 */
export function normalizeTerm(term: string, mode: 'substitution' | 'base' = 'substitution'): string {
  const b = normalizeBuffer(term, mode)
  let from = 0
  let to = b.length
  while (from < to && b.classes[from] === SEP) from++
  // A trailing "!" (or "|", "+") in a term is punctuation, not a leetspeak letter ("kill you!").
  while (to > from && (b.classes[to - 1] === SEP || (b.classes[to - 1] === SOFT && TERM_TRAILING_PUNCT.has(term.charCodeAt(b.start[to - 1]!))))) to--
  return unitsToString(b.codes, from, to)
}

/** The base form as a plain string, trimmed (used to compare texts for repetition). */
export function normalizeForComparison(text: string): string {
  const b = normalizeBuffer(text, 'base', text.length <= 65_536 ? comparisonWriter : undefined)
  let from = 0
  let to = b.length
  if (from < to && b.classes[from] === SEP) from++
  if (to > from && b.classes[to - 1] === SEP) to--
  return unitsToString(b.codes, from, to)
}
const comparisonWriter = new NormWriter(1024)
