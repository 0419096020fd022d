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
  const privateKey = createPrivateKey(pem)
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new Error(`LEDGER_SIGNING_KEY must be an Ed25519 private key, got ${privateKey.asymmetricKeyType}`)
  }
  const publicKey = createPublicKey(privateKey)
  const name = config.ledger.origin
  return {
    name,
    privateKey,
    publicKey,
    keyId: keyId(name, publicKey).toString('hex'),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    verifierKey: publicKeyVerifierString(name, publicKey),
  }
}
