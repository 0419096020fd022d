// Private-information detectors and link extraction, with evidence offsets into the ORIGINAL text.
//
// The detectors run on the "detector" form of the text (normalize.ts: NFKD, case folded,
// look-alikes mapped, zero-width and other ignorable characters removed, punctuation kept one for
// one), so fullwidth digits, "555\u200b0142" or a Cyrillic "о" in a domain do not hide anything,
// and every hit is mapped back to the original code units.
//
// Linear time: the regular expressions below have no nested unbounded quantifiers (every
// repetition is bounded, so each start position costs a bounded number of steps), e-mail
// addresses are found by expanding around each "@", and links by one scan over host-like runs.
import { isLetterClass, normalizeBuffer, unitsToString, type NormBuffer, type NormWriter } from './normalize.js'

export const DETECTOR_NAMES = ['phone', 'email', 'ssn', 'street_address'] as const
export type DetectorName = (typeof DETECTOR_NAMES)[number]

/** One hit: [start, end) in the original text (UTF-16), the original substring, and what it is. */
export interface DetectorMatch {
  start: number
  end: number
  text: string
  detail: string
}

const NON_ASCII = /[\u0080-\uffff]/

/**
 * The detector form of a text, computed on first use and shared by all detectors of one
 * evaluation. Pure-ASCII text needs no offset map: its detector form is its lower-case form.
 */
export class DetectorText {
  readonly original: string
  readonly #writer: NormWriter | undefined
  #form: string | undefined
  #buffer: NormBuffer | null = null
  #digits = -1

  /** With a `writer`, its arrays are reused (valid until the writer's next use). */
  constructor(original: string, writer?: NormWriter) {
    this.original = original
    this.#writer = writer
  }

  /** The detector form (lower case, NFKD, look-alikes folded, ignorable characters removed). */
  get form(): string {
    if (this.#form === undefined) {
      if (!NON_ASCII.test(this.original)) {
        this.#form = this.original.toLowerCase()
      } else {
        this.#buffer = normalizeBuffer(this.original, 'detector', this.#writer)
        this.#form = unitsToString(this.#buffer.codes, 0, this.#buffer.length)
      }
    }
    return this.#form
  }

  /** Number of ASCII digits in the form (a cheap pre-check for the number detectors). */
  get digits(): number {
    if (this.#digits < 0) {
      const f = this.form
      let n = 0
      for (let i = 0; i < f.length; i++) {
        const c = f.charCodeAt(i)
        if (c >= 0x30 && c <= 0x39) n++
      }
      this.#digits = n
    }
    return this.#digits
  }

  /** Original start offset of form unit i. */
  startOf(i: number): number {
    void this.form
    return this.#buffer === null ? i : this.#buffer.start[i]!
  }

  /** Original end offset of form unit i. */
  endOf(i: number): number {
    void this.form
    return this.#buffer === null ? i + 1 : this.#buffer.end[i]!
  }

  /** Whether form unit i is a letter or digit (part of a word). */
  isLetterAt(i: number): boolean {
    const f = this.form
    if (this.#buffer === null) {
      const c = f.charCodeAt(i)
      return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39)
    }
    return isLetterClass(this.#buffer.classes[i]!)
  }

  /** A match for the detector-form range [start, end). */
  match(start: number, end: number, detail: string): DetectorMatch {
    const s = this.startOf(start)
    const e = this.endOf(end - 1)
    return { start: s, end: e, text: this.original.slice(s, e), detail }
  }
}

const input = (text: string | DetectorText) => (typeof text === 'string' ? new DetectorText(text) : text)

// ---------------------------------------------------------------------------------------------
// Phone numbers (NANP: area code and exchange start with 2-9; optional +1 / 1 prefix)

const PHONE =
  /(?<![a-z0-9_]|\d[-.])(?:(?:\+[ \t]?1|(?<![+])1)[ \t.-]{0,2})?(?:\([ \t]{0,2}[2-9]\d{2}[ \t]{0,2}\)|[2-9]\d{2})[ \t.-]{0,3}[2-9]\d{2}[ \t.-]{0,3}\d{4}(?!\d|[-.]\d)/g

/** US phone numbers: (815) 555-0142, 815.555.0142, +1 815 555 0142, 1-815-555-0142, 8155550142. */
/**
 * `plain` (by offset), then the matches of `more` (by offset, not overlapping each other) that
 * overlap none of `plain`: an obfuscated match found where a plain one is, is the plain one.
 */
function withoutOverlaps(plain: DetectorMatch[], more: DetectorMatch[]): DetectorMatch[] {
  if (plain.length === 0) return more
  const out = [...plain]
  let k = 0
  for (const m of more) {
    while (k < plain.length && plain[k]!.end <= m.start) k++
    if (k < plain.length && plain[k]!.start < m.end) continue
    out.push(m)
  }
  return out
}

export function detectPhones(text: string | DetectorText): DetectorMatch[] {
  const t = input(text)
  const out: DetectorMatch[] = []
  if (t.digits >= 10) for (const m of t.form.matchAll(PHONE)) out.push(t.match(m.index, m.index + m[0].length, 'phone number'))
  if (enoughDigits(t)) return withoutOverlaps(out, obfuscatedPhones(t))
  return out
}

// Obfuscated phone numbers: digits spelled out ("eight one five..."), spaced one by one
// ("8 1 5 5..."), or with the letters O, I and l for 0 and 1 ("815 555 O142", "8l5"). A run of
// digits, digit words and such letters, at most three of " .-/()_*" apart (no commas: "scores 21
// 14, 35 28" is not a number), that is a valid NANP number (10 digits, or 11 starting with 1) and
// has at least one digit word or letter, or four digits standing alone.
const DIGIT_WORDS = new Map([
  ['zero', '0'], ['oh', '0'], ['one', '1'], ['two', '2'], ['three', '3'], ['four', '4'],
  ['five', '5'], ['six', '6'], ['seven', '7'], ['eight', '8'], ['nine', '9'],
])
/** Two digit words in a row ("five five"): with fewer than seven digits, the only way to a number. */
const TWO_DIGIT_WORDS = /\b(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)[^a-z0-9]{1,3}(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)\b/

/** Enough digits (seven at least: the other three may be letters, "8l5-555-0l42") or digit words. */
const enoughDigits = (t: DetectorText) => t.digits >= 7 || TWO_DIGIT_WORDS.test(t.form)
const PHONE_GAP = ' \t.-/()_*'
const NANP = /^[2-9]\d\d[2-9]\d{6}$/

function obfuscatedPhones(t: DetectorText): DetectorMatch[] {
  const f = t.form
  const n = f.length
  const out: DetectorMatch[] = []
  let digits = ''
  let runStart = -1
  let runEnd = -1
  let disguised = 0 // digit words and letters
  let alone = 0 // digits standing alone ("8 1 5")
  const flush = () => {
    const d = digits.length === 11 && digits[0] === '1' ? digits.slice(1) : digits
    if (NANP.test(d) && (disguised > 0 || alone >= 4)) out.push(t.match(runStart, runEnd, 'phone number (obfuscated)'))
    digits = ''
    disguised = 0
    alone = 0
  }
  const isDigit = (c: number) => c >= 0x30 && c <= 0x39
  const isLetter = (c: number) => c >= 0x61 && c <= 0x7a
  let i = 0
  while (i < n) {
    const c = f.charCodeAt(i)
    let j = i + 1
    let value: string
    if (isDigit(c)) {
      while (j < n && isDigit(f.charCodeAt(j))) j++
      value = f.slice(i, j)
      if (j - i === 1) alone++
    } else if (isLetter(c)) {
      while (j < n && isLetter(f.charCodeAt(j))) j++
      const word = f.slice(i, j)
      const nextToDigit = (i > 0 && isDigit(f.charCodeAt(i - 1))) || (j < n && isDigit(f.charCodeAt(j)))
      const spelled = DIGIT_WORDS.get(word) ?? (nextToDigit && /^[oil]+$/.test(word) ? word.replace(/o/g, '0').replace(/[il]/g, '1') : undefined)
      if (spelled === undefined || (i > 0 && isLetter(f.charCodeAt(i - 1)))) {
        flush()
        i = j
        continue
      }
      value = spelled
      disguised++
    } else if (PHONE_GAP.includes(f[i]!)) {
      while (j < n && PHONE_GAP.includes(f[j]!)) j++
      if (j - i > 3) flush()
      i = j
      continue
    } else {
      flush()
      i = j
      continue
    }
    if (digits === '') runStart = i
    digits += value
    runEnd = j
    if (digits.length > 11) digits = digits.slice(0, 12) // too long: never a number, keep the run
    i = j
  }
  flush()
  return out
}

// ---------------------------------------------------------------------------------------------
// US Social Security numbers: NNN-NN-NNNN or NNN NN NNNN; area not 000, 666 or 900-999, group
// not 00, serial not 0000.

const SSN = /(?<![a-z0-9_]|\d[-.])(?!000|666|9)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}(?!\d|[-.]\d)/g

export function detectSsns(text: string | DetectorText): DetectorMatch[] {
  const t = input(text)
  if (t.digits < 9) return []
  const out: DetectorMatch[] = []
  for (const m of t.form.matchAll(SSN)) out.push(t.match(m.index, m.index + m[0].length, 'social security number'))
  return out
}

// ---------------------------------------------------------------------------------------------
// E-mail addresses: expand around every "@" (local part <= 64, domain <= 253 characters).

const isLocalChar = (c: number) =>
  (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x5f || c === 0x25 || c === 0x2b || c === 0x2d
const isHostChar = (c: number) => (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2d
const isAlnum = (c: number) => (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39)

/** Checks a host name (lower case, no trailing dot): >= 2 labels of 1..63, a letters-only or xn-- TLD. */
function validHost(host: string, minTldLength: number): boolean {
  if (host.length > 253) return false
  const labels = host.split('.')
  if (labels.length < 2) return false
  for (const label of labels) {
    if (label.length === 0 || label.length > 63 || label.startsWith('-') || label.endsWith('-')) return false
  }
  const tld = labels[labels.length - 1]!
  return (tld.length >= minTldLength && /^[a-z]+$/.test(tld)) || /^xn--[a-z0-9-]+$/.test(tld)
}

/** The e-mail addresses of a lower-case string, as [start, end) ranges of it. */
function emailSpans(form: string): Array<[number, number]> {
  const out: Array<[number, number]> = []
  let at = form.indexOf('@')
  while (at !== -1) {
    let s = at
    while (s > 0 && at - s < 64 && isLocalChar(form.charCodeAt(s - 1))) s--
    const localTooLong = s > 0 && isLocalChar(form.charCodeAt(s - 1))
    while (s < at && form.charCodeAt(s) === 0x2e) s++
    let e = at + 1
    while (e < form.length && e - at - 1 < 253 && isHostChar(form.charCodeAt(e))) e++
    while (e > at + 1 && !isAlnum(form.charCodeAt(e - 1))) e--
    let next = at + 1
    if (!localTooLong && s < at && validHost(form.slice(at + 1, e), 2)) {
      out.push([s, e])
      next = e
    }
    at = form.indexOf('@', next)
  }
  return out
}

export function detectEmails(text: string | DetectorText): DetectorMatch[] {
  const t = input(text)
  const form = t.form
  const out: DetectorMatch[] = []
  if (form.includes('@')) for (const [s, e] of emailSpans(form)) out.push(t.match(s, e, 'e-mail address'))
  if (MAYBE_OBFUSCATED_EMAIL.test(form)) return withoutOverlaps(out, obfuscatedEmails(t))
  return out
}

// Obfuscated e-mail addresses: "jane.doe [at] example [dot] com", "jane(at)example(dot)com",
// "jane.doe @ example . com", and the words "at" and "dot" ("jane dot doe at example dot com")
// only when an address needs both (so "online at citykankakee-il.gov" is not an address).
// Bounded repeats keep the scan linear on any input (a megabyte of spaces).
const EMAIL_OBFUSCATION =
  /[ \t]{0,3}[[({<][ \t]{0,3}(at|@|dot|\.)[ \t]{0,3}[\])}>][ \t]{0,3}|[ \t]{1,3}@[ \t]{0,3}|@[ \t]{1,3}|[ \t]{1,3}\.[ \t]{1,3}|[ \t]{1,3}(at|dot)[ \t]{1,3}/g
const MAYBE_OBFUSCATED_EMAIL = /[[({<][ \t]{0,3}(?:at|@|dot|\.)[ \t]{0,3}[\])}>]| @|@ | \. |[ \t]dot[ \t]/

/** Words that are never a part of an address written with "at" and "dot" ("the dot com era"). */
const SPELLED_ADDRESS_STOPWORDS = new Set('the a an this that my your our his her their its on in of to'.split(' '))

/** An address written with the words "at" and "dot": a common TLD, and no part a stopword. */
function plausibleSpelledAddress(address: string): boolean {
  const parts = address.split(/[@.]/)
  return KNOWN_TLDS.has(parts[parts.length - 1]!) && !parts.some((p) => SPELLED_ADDRESS_STOPWORDS.has(p))
}

function obfuscatedEmails(t: DetectorText): DetectorMatch[] {
  const form = t.form
  // The form with each obfuscation replaced by "@" or ".": per unit, its range in the form and
  // its kind (0 as written, 1 bracketed or spaced symbol, 2 the word "at", 3 the word "dot").
  const pieces: string[] = []
  const from = new Int32Array(form.length)
  const to = new Int32Array(form.length)
  const kind = new Uint8Array(form.length)
  let n = 0
  let last = 0
  const copy = (a: number, b: number) => {
    pieces.push(form.slice(a, b))
    for (let k = a; k < b; k++, n++) {
      from[n] = k
      to[n] = k + 1
    }
  }
  for (const m of form.matchAll(EMAIL_OBFUSCATION)) {
    copy(last, m.index)
    pieces.push(m[0].includes('@') || m[1] === 'at' || m[2] === 'at' ? '@' : '.')
    from[n] = m.index
    to[n] = m.index + m[0].length
    kind[n] = m[2] === undefined ? 1 : m[2] === 'at' ? 2 : 3
    n++
    last = m.index + m[0].length
  }
  copy(last, form.length)
  const plain = pieces.join('')
  const out: DetectorMatch[] = []
  for (const [s, e] of emailSpans(plain)) {
    const kinds = new Set(kind.subarray(s, e))
    if (kinds.has(1) || (kinds.has(2) && kinds.has(3) && plausibleSpelledAddress(plain.slice(s, e)))) {
      out.push(t.match(from[s]!, to[e - 1]!, 'e-mail address (obfuscated)'))
    }
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// Street addresses: house number, optional direction, 1-4 name words, a street suffix, optional
// unit. "Strong" suffixes (St, Street, Ave, Blvd, Rd...) are enough on their own; "weak" ones
// that are also ordinary words (Drive, Court, Place, Way, Lane, Road...) need a capitalized street
// name in the original text ("10 minutes drive" is not an address, "10 Prairie Drive" is).
// A name word from STREET_STOPWORDS rejects the candidate ("5 dollars at the court").

const DIRECTION = '(?:north|south|east|west|ne|nw|se|sw|n|s|e|w)\\.?'
const STRONG_SUFFIXES = ['street', 'st', 'avenue', 'ave', 'av', 'boulevard', 'blvd', 'rd', 'dr', 'ln', 'ct', 'pl', 'parkway', 'pkwy', 'highway', 'hwy', 'ter', 'cir', 'trl']
const WEAK_SUFFIXES = ['road', 'drive', 'lane', 'court', 'place', 'way', 'terrace', 'circle', 'trail']
const WEAK = new Set(WEAK_SUFFIXES)
const SUFFIX_ALT = [...STRONG_SUFFIXES, ...WEAK_SUFFIXES].sort((a, b) => b.length - a.length).join('|')
const ADDRESS = new RegExp(
  `(?<![a-z0-9_.\\-/#$])\\d{1,6}[a-z]?[ \\t]{1,3}(?:${DIRECTION}[ \\t]{1,3})?` +
    `((?:[a-z0-9']{1,30}[ \\t]{1,3}){0,3}[a-z0-9']{1,30})[ \\t]{1,3}(${SUFFIX_ALT})\\b\\.?` +
    `(?:,?[ \\t]{1,3}(?:apartment|apt|unit|suite|ste|#)\\.?[ \\t]{0,3}#?[ \\t]{0,2}[a-z0-9]{1,6}(?:-[a-z0-9]{1,6})?\\b)?`,
  'dg',
)
const STREET_STOPWORDS = new Set(
  (
    'a an the at of in on to for and or but nor so as if than then my your our their his her its is was are were be been ' +
    'by with from this that these those it we you they he she i me us them per no not all any more most some many few ' +
    'times minutes mins hours hrs days weeks months years people dollars bucks percent miles feet ft blocks cars kids ' +
    'votes comments likes points am pm'
  ).split(' '),
)

export function detectStreetAddresses(text: string | DetectorText): DetectorMatch[] {
  const t = input(text)
  if (t.digits < 1) return []
  const form = t.form
  const out: DetectorMatch[] = []
  ADDRESS.lastIndex = 0
  for (let m = ADDRESS.exec(form); m !== null; m = ADDRESS.exec(form)) {
    const nameRange = m.indices![1]!
    const words = m[1]!.split(/[ \t]+/)
    let ok = !words.some((w) => STREET_STOPWORDS.has(w))
    if (ok && WEAK.has(m[2]!)) {
      const first = t.original.slice(t.startOf(nameRange[0]), t.endOf(nameRange[0]))
      ok = /^[\p{Lu}\d]/u.test(first)
    }
    if (ok) {
      out.push(t.match(m.index, m.index + m[0].length, 'street address'))
    } else {
      ADDRESS.lastIndex = m.index + 1
    }
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// Links

/** Link shorteners flagged by a links matcher with `shorteners: true`. */
export const LINK_SHORTENERS: readonly string[] = [
  'bit.ly', 'tinyurl.com', 't.co', 'goo.gl', 'ow.ly', 'is.gd', 'buff.ly', 'rebrand.ly', 'cutt.ly', 'shorturl.at', 'tiny.cc', 'rb.gy', 's.id',
]
const SHORTENER_SET = new Set(LINK_SHORTENERS)

/** TLDs that make a bare "name.tld" a link without a scheme, "www." or a path. */
const KNOWN_TLDS = new Set(
  (
    'com net org gov edu mil int us uk ca au de fr es it nl eu io co info biz me tv ly gl gd at cc gy id xyz app dev ' +
    'online site top club shop store live ru cn in br jp ch se no pl link click win bid loan work email news ai gg to ' +
    'ws pw tk ml ga cf gq su ph vn ng pk ir kr tw hk sg my nz za mx ar cl pe ve ua kz by'
  ).split(' '),
)

/**
 * Normalizes a domain of a deny list: lower case, trailing dots removed, "http(s)://" and a path
 * tolerated. Null when it is not a plausible ASCII host name (IDN: give the xn-- form).
 */
export function normalizeDomain(domain: string): string | null {
  let d = domain.trim().toLowerCase()
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//.exec(d)
  if (scheme) d = d.slice(scheme[0].length).split(/[/?#:]/)[0]!
  while (d.endsWith('.')) d = d.slice(0, -1)
  return validHost(d, 1) && /^[a-z0-9.-]+$/.test(d) ? d : null
}

export interface LinkMatch {
  /** [start, end) in the original text: scheme (if any) through the path. */
  start: number
  end: number
  text: string
  /** Host name, lower case, look-alikes folded, no trailing dot. */
  host: string
  /** Written with a scheme ("https://"). */
  hasScheme: boolean
  /** Followed by a path, query, fragment or port. */
  hasPath: boolean
}

const TRAILING_URL_PUNCT = new Set([0x2e, 0x2c, 0x3b, 0x3a, 0x21, 0x3f, 0x29, 0x5d, 0x7d, 0x27, 0x22, 0x3e])
const isSpaceLike = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0c || c === 0x0b || c === 0x3c || c === 0x3e || c === 0x22

/**
 * Every link in the text: "http(s)://...", "www.example.org", bare "example.com/path", and bare
 * "name.tld" when the TLD is a common one or in `extraTlds`.
 */
export function extractLinks(text: string | DetectorText, extraTlds: ReadonlySet<string> = new Set()): LinkMatch[] {
  const t = input(text)
  const form = t.form
  const n = form.length
  const out: LinkMatch[] = []
  // Every host name has a dot: expand each dot to its run of host characters, once per run.
  let dot = form.indexOf('.')
  while (dot !== -1) {
    let i = dot
    while (i > 0 && isHostChar(form.charCodeAt(i - 1))) i--
    let j = dot + 1
    while (j < n && isHostChar(form.charCodeAt(j))) j++
    const link = linkAt(t, form, i, j, extraTlds)
    if (link !== null) out.push(link)
    dot = form.indexOf('.', j)
  }
  return out
}

/** The link whose host is the run of host characters [i, j) of the form, if it is one. */
function linkAt(t: DetectorText, form: string, i: number, runEnd: number, extraTlds: ReadonlySet<string>): LinkMatch | null {
  const n = form.length
  // Not the tail of a word ("жmalware.example") nor after an in-word apostrophe ("it's.id").
  const prev = i > 0 ? form.charCodeAt(i - 1) : 0x20
  if (i > 0 && (t.isLetterAt(i - 1) || ((prev === 0x27 || prev === 0x2019) && i > 1 && t.isLetterAt(i - 2)))) return null
  let hs = i
  let he = runEnd
  while (hs < he && !isAlnum(form.charCodeAt(hs))) hs++
  while (he > hs && !isAlnum(form.charCodeAt(he - 1))) he--
  const host = form.slice(hs, he)
  if (!host.includes('.') || !validHost(host, 1)) return null
  const hasScheme = hs === i && form.startsWith('://', hs - 3)
  let start = hs
  if (hasScheme) {
    let k = hs - 3
    while (k > 0 && hs - 3 - k < 16 && /[a-z0-9+.-]/.test(form[k - 1]!)) k--
    if (k < hs - 3 && /[a-z]/.test(form[k]!)) start = k
  }
  let end = he
  // A path may follow the host directly or after its trailing dot(s) ("example.org./x").
  const onlyDots = /^\.*$/.test(form.slice(he, runEnd))
  const after = runEnd < n ? form.charCodeAt(runEnd) : 0
  let hasPath = false
  if (onlyDots && (after === 0x2f || after === 0x3f || after === 0x23 || after === 0x3a)) {
    const pathStart = runEnd
    let k = pathStart
    while (k < n && !isSpaceLike(form.charCodeAt(k)) && k - pathStart < 4096) k++
    while (k > pathStart && TRAILING_URL_PUNCT.has(form.charCodeAt(k - 1))) k--
    if (k > pathStart + 1 || (k > pathStart && after === 0x2f)) {
      hasPath = after !== 0x3a || /^:\d+/.test(form.slice(pathStart, k))
      if (hasPath) end = k
    }
  }
  const tld = host.slice(host.lastIndexOf('.') + 1)
  if (!(hasScheme || host.startsWith('www.') || hasPath || KNOWN_TLDS.has(tld) || extraTlds.has(tld))) return null
  const m = t.match(start, end, 'link')
  return { start: m.start, end: m.end, text: m.text, host, hasScheme, hasPath }
}

/** Deny-listed domains (and their subdomains) and link shorteners, compiled once. */
export class LinkMatcher {
  readonly #deny: Set<string>
  readonly #shorteners: boolean
  readonly #extraTlds: Set<string>

  constructor(denyDomains: readonly string[], shorteners: boolean) {
    this.#deny = new Set(denyDomains.map((d) => normalizeDomain(d)).filter((d): d is string => d !== null))
    this.#shorteners = shorteners
    this.#extraTlds = new Set([...this.#deny].map((d) => d.slice(d.lastIndexOf('.') + 1)))
  }

  /** The deny-listed domain covering `host` (itself or a parent domain), if any. */
  deniedBy(host: string): string | undefined {
    let h = host
    for (;;) {
      if (this.#deny.has(h)) return h
      const dot = h.indexOf('.')
      if (dot < 0) return undefined
      h = h.slice(dot + 1)
    }
  }

  match(text: string | DetectorText): DetectorMatch[] {
    const out: DetectorMatch[] = []
    for (const link of extractLinks(text, this.#extraTlds)) {
      const denied = this.deniedBy(link.host)
      if (denied !== undefined) {
        out.push({ start: link.start, end: link.end, text: link.text, detail: `deny-listed domain ${denied}` })
        continue
      }
      if (this.#shorteners) {
        const bare = link.host.startsWith('www.') ? link.host.slice(4) : link.host
        // A shortener needs a path ("bit.ly/3xYz"): a bare mention of the name is not a link to anywhere.
        if (SHORTENER_SET.has(bare) && link.hasPath) {
          out.push({ start: link.start, end: link.end, text: link.text, detail: `link shortener ${bare}` })
        }
      }
    }
    return out
  }
}

/** Runs the named private-information detectors; hits sorted by offset. */
export function detectPrivateInformation(text: string | DetectorText, detectors: readonly DetectorName[]): DetectorMatch[] {
  const t = input(text)
  const out: DetectorMatch[] = []
  for (const d of new Set(detectors)) {
    const hits =
      d === 'phone' ? detectPhones(t) : d === 'email' ? detectEmails(t) : d === 'ssn' ? detectSsns(t) : detectStreetAddresses(t)
    for (const hit of hits) out.push(hit)
  }
  return out.sort((a, b) => a.start - b.start || a.end - b.end)
}

