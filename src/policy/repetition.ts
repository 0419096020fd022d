// Near-duplicate detection for repetition rules.
//
// Similarity of two comments = Jaccard index |A ∩ B| / |A ∪ B| of the SETS of character 3-grams
// (UTF-16 units) of their base normalized forms (normalize.ts: case, accents, look-alikes and
// zero-width characters folded, every run of whitespace/punctuation one space, trimmed). 1 means
// the same normalized text; one changed character in a 100-character comment gives about 0.94,
// an appended 5-letter word to a 60-character comment about 0.89. Texts shorter than 3 units
// compare by equality. Cost is linear in the lengths (3-grams are packed into one number).
import { normalizeForComparison } from './normalize.js'

/**
 * The set of 3-grams as small integers: three units below 1024 (Latin, Greek, Cyrillic...) packed
 * into 30 bits, anything else hashed into the negative range (a collision there only nudges the
 * index). Small integers keep the Set fast.
 */
function trigrams(s: string): Set<number> {
  const set = new Set<number>()
  for (let i = 0; i + 2 < s.length; i++) {
    const a = s.charCodeAt(i)
    const b = s.charCodeAt(i + 1)
    const c = s.charCodeAt(i + 2)
    if ((a | b | c) < 1024) {
      set.add((a << 20) | (b << 10) | c)
    } else {
      let h = Math.imul(a ^ 0x9e3779b1, 0x85ebca6b)
      h = Math.imul(h ^ b ^ (h >>> 13), 0xc2b2ae35)
      h = Math.imul(h ^ c ^ (h >>> 16), 0x27d4eb2f)
      set.add(-1 - ((h >>> 2) & 0x3fffffff))
    }
  }
  return set
}

/** A comment prepared for repeated comparisons. */
export class ComparableText {
  readonly normalized: string
  #grams: Set<number> | undefined

  constructor(normalized: string) {
    this.normalized = normalized
  }

  static of(text: string): ComparableText {
    return new ComparableText(normalizeForComparison(text))
  }

  get grams(): Set<number> {
    this.#grams ??= trigrams(this.normalized)
    return this.#grams
  }

  /** Jaccard similarity of the 3-gram sets (see the top of the file). */
  similarity(other: ComparableText): number {
    const a = this.normalized
    const b = other.normalized
    if (a === b) return 1
    if (a.length < 3 || b.length < 3) return 0
    return jaccard(this.grams, other.grams)
  }

  /**
   * Whether the similarity to `other` is at least `threshold`. Skips the 3-gram work when the
   * other text is too short to reach it: J <= |B| / |A| when |B| < |A|, and |B| <= length - 2.
   */
  isSimilar(other: ComparableText, threshold: number): boolean {
    if (this.normalized === other.normalized) return true
    if (Math.max(0, other.normalized.length - 2) < threshold * this.grams.size) return false
    return this.similarity(other) >= threshold
  }
}

function jaccard(a: Set<number>, b: Set<number>): number {
  if (a.size === 0 && b.size === 0) return 1
  const [small, large] = a.size <= b.size ? [a, b] : [b, a]
  let inter = 0
  for (const g of small) if (large.has(g)) inter++
  return inter / (a.size + b.size - inter)
}

/** Similarity of two raw comments (normalizes both; see the top of the file). */
export function textSimilarity(a: string, b: string): number {
  return ComparableText.of(a).similarity(ComparableText.of(b))
}

// ---------------------------------------------------------------------------------------------
// Fingerprints: bounded work per comment (docs/policy.md, "Repetition: how similarity is computed")
//
// A repetition rule compares a new comment with the author's recent versions. Comparing full texts
// costs time in proportion to everything the author wrote in the window (each earlier text
// normalized, its 3-gram set built and intersected, for every new version), so one author posting
// large batches of long comments slowed every delivery. Instead each version gets a fingerprint,
// computed once from its own text (at ingestion, stored with the version) and of bounded size:
// - the number of distinct 3-grams of its normalized form (exact);
// - the 256 smallest hash values of that 3-gram set (a bottom-k sketch; the whole set when it has
//   at most 256 3-grams). The hash is a bijection of the 32-bit 3-gram codes above, so distinct
//   3-grams never share a value;
// - for a normalized form shorter than 3 units (no 3-grams), its units themselves.
// Two fingerprints give the similarity in at most 2 x 256 steps, whatever the texts' lengths:
// - exactly the Jaccard index above when both sets have at most 256 3-grams (comments up to about
//   250 characters) and when one normalized form is shorter than 3 units;
// - otherwise the standard bottom-k estimate: of the 256 smallest hash values of the union, the
//   share present in both sets. Its standard deviation is at most sqrt(J(1 - J) / 256) (0.019 at
//   J = 0.9). It is deterministic: the same two texts always give the same value.
// Whatever the sketch says, a pair whose set sizes alone rule out the threshold (J <= min/max of
// the sizes) is never counted.

/** Hash values kept per fingerprint (k of the bottom-k sketch). */
export const SKETCH_SIZE = 256

/**
 * At most this many of the author's most recent versions within a rule's window are compared with
 * a new comment, or minCount - 1 when a rule's minCount is larger (so that every valid rule can
 * still match).
 */
export const RECENT_VERSIONS_COMPARED = 100

/** How many of the author's most recent versions a repetition rule with this minCount compares (K). */
export function versionsCompared(minCount: number): number {
  return Math.max(RECENT_VERSIONS_COMPARED, minCount - 1)
}

/** A comment's repetition fingerprint (see above). */
export interface Fingerprint {
  /** Distinct 3-grams of the normalized form (0 when it is shorter than 3 units). */
  readonly size: number
  /** The normalized form when it is shorter than 3 units, as (unit 0 << 16 | unit 1); 0 for ''. */
  readonly short: number
  /** The min(size, SKETCH_SIZE) smallest hash values of the 3-gram set, ascending. */
  readonly hashes: Uint32Array
}

/** A bijection of 32-bit integers (MurmurHash3's finalizer, after a fixed xor). */
function mix(x: number): number {
  let h = (x ^ 0x2545f491) >>> 0
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** The fingerprint of an already normalized form (normalizeForComparison). */
export function fingerprintOfNormalized(normalized: string): Fingerprint {
  if (normalized.length < 3) {
    const short = normalized.length === 0 ? 0 : ((normalized.charCodeAt(0) << 16) | (normalized.length > 1 ? normalized.charCodeAt(1) : 0)) >>> 0
    return { size: 0, short, hashes: new Uint32Array(0) }
  }
  const grams = trigrams(normalized)
  const all = new Uint32Array(grams.size)
  let n = 0
  for (const g of grams) all[n++] = mix(g)
  all.sort()
  return { size: grams.size, short: 0, hashes: all.slice(0, SKETCH_SIZE) }
}

/** The fingerprint of a raw comment text. Linear in its length. */
export function fingerprintOf(text: string): Fingerprint {
  return fingerprintOfNormalized(normalizeForComparison(text))
}

/** Format byte of the stored form; another value (a future format) is read as "no fingerprint". */
export const FINGERPRINT_FORMAT = 1

/** The stored form (comment_event.repetition_fingerprint): format byte, size, short, hashes; little-endian. */
export function encodeFingerprint(f: Fingerprint): Buffer {
  const out = Buffer.alloc(9 + 4 * f.hashes.length)
  out.writeUInt8(FINGERPRINT_FORMAT, 0)
  out.writeUInt32LE(f.size, 1)
  out.writeUInt32LE(f.short, 5)
  for (let i = 0; i < f.hashes.length; i++) out.writeUInt32LE(f.hashes[i]!, 9 + 4 * i)
  return out
}

/** The fingerprint of a stored form, or null when it is not one of this format. */
export function decodeFingerprint(b: Uint8Array): Fingerprint | null {
  if (b.length < 9 || b[0] !== FINGERPRINT_FORMAT || (b.length - 9) % 4 !== 0) return null
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength)
  const size = view.getUint32(1, true)
  const count = (b.length - 9) / 4
  if (count !== Math.min(size, SKETCH_SIZE)) return null
  const hashes = new Uint32Array(count)
  for (let i = 0; i < count; i++) hashes[i] = view.getUint32(9 + 4 * i, true)
  return { size, short: view.getUint32(5, true), hashes }
}

/**
 * The similarity of two fingerprinted comments: exact when both 3-gram sets fit in the sketch,
 * the bottom-k estimate otherwise (see above).
 */
export function fingerprintSimilarity(a: Fingerprint, b: Fingerprint): number {
  if (a.size === 0 || b.size === 0) return a.size === 0 && b.size === 0 && a.short === b.short ? 1 : 0
  const x = a.hashes
  const y = b.hashes
  const complete = a.size <= SKETCH_SIZE && b.size <= SKETCH_SIZE
  // Walk the union in ascending order: all of it when both sketches are the whole sets, else its
  // SKETCH_SIZE smallest values (all present in the sketches: each is among its own set's smallest).
  const limit = complete ? Number.POSITIVE_INFINITY : SKETCH_SIZE
  let i = 0
  let j = 0
  let union = 0
  let both = 0
  while (union < limit && (i < x.length || j < y.length)) {
    if (j >= y.length || (i < x.length && x[i]! < y[j]!)) i++
    else if (i >= x.length || y[j]! < x[i]!) j++
    else {
      both++
      i++
      j++
    }
    union++
  }
  return union === 0 ? 1 : both / union
}

/**
 * Whether the similarity of `b` to `a` is at least `threshold`. Sizes that rule the threshold out
 * (J <= min(|A|, |B|) / max(|A|, |B|)) answer no without the sketch.
 */
export function isSimilarFingerprint(a: Fingerprint, b: Fingerprint, threshold: number): boolean {
  if (a.size > 0 && b.size > 0 && Math.min(a.size, b.size) < threshold * Math.max(a.size, b.size)) return false
  return fingerprintSimilarity(a, b) >= threshold
}

/**
 * The positions in `history` a repetition rule compares with a comment posted at `now`: the entries
 * whose time is within [now - windowMs, now], and of those at most `limit` (K), the most recent
 * (equal times: the later in the list). Entries with an unparseable time are skipped.
 */
export function recentInWindow(history: ReadonlyArray<{ platformTime: string }>, now: number, windowMs: number, limit: number): number[] {
  const inWindow: Array<{ k: number; t: number }> = []
  history.forEach((entry, k) => {
    const t = Date.parse(entry.platformTime)
    if (!Number.isFinite(t) || t > now || now - t > windowMs) return
    inWindow.push({ k, t })
  })
  if (inWindow.length <= limit) return inWindow.map((e) => e.k)
  inWindow.sort((a, b) => a.t - b.t || a.k - b.k)
  return inWindow.slice(inWindow.length - limit).map((e) => e.k)
}
