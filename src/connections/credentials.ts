// Sealing platform credentials at rest: AES-256-GCM under CONNECTION_CREDENTIALS_KEY, a fresh
// 96-bit IV per sealing (NIST SP 800-38D §8.2), and the platform's name as additional
// authenticated data, so a sealed value copied onto another platform's row does not open there.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto'

const VERSION = 'v1'

function aad(platform: string): Buffer {
  return Buffer.from(`townsquare platform connection ${platform}`, 'utf8')
}

/** `v1.<iv>.<tag>.<ciphertext>`, each base64url. */
export function sealCredentials(key: Buffer, platform: string, credentials: Record<string, string>): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(aad(platform))
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(credentials), 'utf8'), cipher.final()])
  return [VERSION, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ciphertext.toString('base64url')].join('.')
}

/** The credentials, or null when the value was not sealed under this key for this platform (or was altered). */
export function openCredentials(key: Buffer, platform: string, sealed: string): Record<string, string> | null {
  const parts = sealed.split('.')
  if (parts.length !== 4 || parts[0] !== VERSION) return null
  const [iv, tag, ciphertext] = parts.slice(1).map((p) => Buffer.from(p, 'base64url')) as [Buffer, Buffer, Buffer]
  if (iv.length !== 12 || tag.length !== 16) return null
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: 16 })
    decipher.setAAD(aad(platform))
    decipher.setAuthTag(tag)
    const text = Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8')
    return JSON.parse(text) as Record<string, string>
  } catch {
    return null
  }
}

/**
 * What the API shows of a credential: an HMAC under the key (never a plain hash, which would let
 * anyone who reads it test a guessed token), 16 hex digits: enough to tell two tokens apart.
 */
export function credentialFingerprint(key: Buffer, platform: string, credentials: Record<string, string>): string {
  const names = Object.keys(credentials).sort()
  const mac = createHmac('sha256', key).update(`fingerprint\0${platform}\0`)
  for (const name of names) mac.update(`${name}\0${credentials[name]}\0`)
  return `hmac-sha256:${mac.digest('hex').slice(0, 16)}`
}
