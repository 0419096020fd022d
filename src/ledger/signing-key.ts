import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import type { Config } from '../config.js'
import { readOrCreateDevSecret } from '../dev-secrets.js'
import { keyId, publicKeyVerifierString } from './checkpoint.js'

export interface LedgerSigningKey {
  name: string
  privateKey: KeyObject
  publicKey: KeyObject
  /** First 4 bytes of the signed-note key hash, hex. */
  keyId: string
  publicKeyPem: string
  /** The C2SP signed-note verifier key: `<name>+<hex key id>+<base64(0x01 || key)>`. */
  verifierKey: string
  /**
   * The key rotated out (LEDGER_PREVIOUS_SIGNING_KEY), kept only to endorse the first checkpoint
   * under this one: the sealer adds its signature to that checkpoint (docs/ledger.md, "Key rotation").
   */
  previous: Omit<LedgerSigningKey, 'previous'> | null
}

function ed25519Key(pem: string, variable: string, name: string): Omit<LedgerSigningKey, 'previous'> {
  let privateKey
  try {
    privateKey = createPrivateKey(pem)
  } catch (error) {
    throw new Error(`${variable} is not a readable private key: ${(error as Error).message}`)
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new Error(`${variable} must be an Ed25519 private key, got ${privateKey.asymmetricKeyType}`)
  }
  const publicKey = createPublicKey(privateKey)
  return {
    name,
    privateKey,
    publicKey,
    keyId: keyId(name, publicKey).toString('hex'),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    verifierKey: publicKeyVerifierString(name, publicKey),
  }
}

/** The checkpoint signing key from configuration, or in development one generated in DATA_DIR. */
export function loadSigningKey(config: Pick<Config, 'ledger' | 'dataDir' | 'env'>): LedgerSigningKey {
  let pem = config.ledger.signingKeyPem
  if (!pem) {
    if (config.env === 'production') throw new Error('LEDGER_SIGNING_KEY is required in production')
    pem = readOrCreateDevSecret(config.dataDir, 'ledger-signing-key.pem', () =>
      generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString().trim(),
    )
  }
  const current = ed25519Key(pem, 'LEDGER_SIGNING_KEY', config.ledger.origin)
  const previousPem = config.ledger.previousSigningKeyPem
  const previous = previousPem ? ed25519Key(previousPem, 'LEDGER_PREVIOUS_SIGNING_KEY', config.ledger.origin) : null
  if (previous && previous.keyId === current.keyId) {
    throw new Error('LEDGER_PREVIOUS_SIGNING_KEY is the same key as LEDGER_SIGNING_KEY: it must be the key rotated out')
  }
  return { ...current, previous }
}
