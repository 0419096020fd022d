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
