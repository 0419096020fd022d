import { createHash, randomBytes } from 'node:crypto'

/**
 * The appeal reference: what the notice of a removal or hide gives its author, and the only thing
 * that files the appeal of that decision (docs/moderation.md, "Appeals").
 *
 * Ten symbols of Crockford's base32 (digits and letters without I, L, O, U), 50 random bits, shown
 * in two groups of five: `7KQ2M-XR4TB`. What an author types is read as Crockford reads it: case
 * and hyphens or spaces do not matter, I and L are 1, O is 0. There is no check symbol: a mistyped
 * reference is not found, like a guessed one.
 *
 * Only the SHA-256 of the canonical form is stored (appeal_reference); a lookup is by digest.
 */
export const REFERENCE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
export const REFERENCE_LENGTH = 10
const CANONICAL = /^[0-9A-HJKMNP-TV-Z]{10}$/

/** A new reference, as printed in a notice (`XXXXX-XXXXX`). */
export function newAppealReference(): string {
  // 32 divides 256: each byte's low five bits are uniform.
  const symbols = [...randomBytes(REFERENCE_LENGTH)].map((b) => REFERENCE_ALPHABET[b & 31]).join('')
  return `${symbols.slice(0, 5)}-${symbols.slice(5)}`
}

/** The canonical form (ten upper-case symbols) of what someone typed, or null when it cannot be a reference. */
export function canonicalAppealReference(typed: string): string | null {
  const canonical = typed
    .replace(/[\s-]/g, '')
    .toUpperCase()
    .replace(/[IL]/g, '1')
    .replace(/O/g, '0')
  return CANONICAL.test(canonical) ? canonical : null
}

/** The digest stored and looked up: SHA-256 of the canonical form. */
export function appealReferenceDigest(canonical: string): Buffer {
  return createHash('sha256').update(canonical, 'ascii').digest()
}
