import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import t from 'tap'
import {
  CheckpointFormatError,
  checkpointBody,
  keyId,
  parseSignedCheckpoint,
  parseVerifierKey,
  publicKeyVerifierString,
  signCheckpoint,
  verifySignedCheckpoint,
} from '../../src/ledger/checkpoint.js'
import type { Checkpoint } from '../../src/ledger/checkpoint.js'

function ed25519FromSeed(seed: Buffer): KeyObject {
  // PKCS#8 wrapping of a raw 32-byte Ed25519 seed (RFC 8410).
  return createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' })
}

// golang.org/x/mod/sumdb/note reference example (also in C2SP/transparency-dev test suites).
const GO_SIGNER = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz'
const GO_VERIFIER = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'
const GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
const GO_SIG = 'x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM='

const ORIGIN = 'townsquare.example/ledger'
const { privateKey, publicKey } = generateKeyPairSync('ed25519')
const signer = { name: ORIGIN, privateKey }
const verifier = { name: ORIGIN, publicKey }

const cp: Checkpoint = {
  origin: ORIGIN,
  treeSize: 1234567,
  rootHash: createHash('sha256').update('root').digest(),
  time: new Date('2024-05-06T07:08:09.010Z'),
}

t.test('body format (tlog-checkpoint)', async (t) => {
  t.equal(
    checkpointBody(cp),
    `${ORIGIN}\n1234567\n${cp.rootHash.toString('base64')}\ntime 2024-05-06T07:08:09.010Z\n`,
  )
  t.equal(checkpointBody({ ...cp, treeSize: 0 }).split('\n')[1], '0')
  t.throws(() => checkpointBody({ ...cp, origin: '' }), TypeError)
  t.throws(() => checkpointBody({ ...cp, origin: 'a\nb' }), TypeError)
  t.throws(() => checkpointBody({ ...cp, treeSize: -1 }), TypeError)
  t.throws(() => checkpointBody({ ...cp, treeSize: 1.5 }), TypeError)
  t.throws(() => checkpointBody({ ...cp, rootHash: Buffer.alloc(31) }), TypeError)
  t.throws(() => checkpointBody({ ...cp, time: new Date(NaN) }), TypeError)
})

t.test('sign / parse / verify round trip', async (t) => {
  const note = signCheckpoint(cp, signer)
  const [body, sigBlock] = note.split('\n\n') as [string, string]
  t.equal(`${body}\n`, checkpointBody(cp))
  t.match(sigBlock, /^\u2014 townsquare\.example\/ledger [A-Za-z0-9+/]{91}=\n$/, 'one em-dash signature line')
  const sigBytes = Buffer.from(sigBlock.split(' ')[2]!.trim(), 'base64')
  t.equal(sigBytes.length, 68)
  t.same(sigBytes.subarray(0, 4), keyId(ORIGIN, publicKey), 'signature starts with the key ID')
  t.ok(verify(null, Buffer.from(checkpointBody(cp)), publicKey, sigBytes.subarray(4)), 'Ed25519 over the note text')

  const parsed = parseSignedCheckpoint(note)
  t.equal(parsed.checkpoint.origin, cp.origin)
  t.equal(parsed.checkpoint.treeSize, cp.treeSize)
  t.same(parsed.checkpoint.rootHash, cp.rootHash)
  t.equal(parsed.checkpoint.time.toISOString(), cp.time.toISOString())
  t.equal(parsed.body, checkpointBody(cp))
  t.equal(parsed.signatures.length, 1)
  t.equal(parsed.signatures[0]!.keyName, ORIGIN)

  const result = verifySignedCheckpoint(note, verifier)
  t.ok(result.ok)
  if (result.ok) t.same(result.checkpoint, parsed.checkpoint)

  // Empty tree, size 0.
  const empty = signCheckpoint({ ...cp, treeSize: 0 }, signer)
  t.ok(verifySignedCheckpoint(empty, verifier).ok)
})

t.test('key ID and verifier key strings (signed-note)', async (t) => {
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url')
  const expected = createHash('sha256')
    .update(Buffer.concat([Buffer.from(`${ORIGIN}\n`), Buffer.from([0x01]), raw]))
    .digest()
    .subarray(0, 4)
  t.same(keyId(ORIGIN, publicKey), expected)
  t.same(keyId(ORIGIN, privateKey), expected, 'a private key yields the same ID')

  const vkey = publicKeyVerifierString(ORIGIN, publicKey)
  t.equal(vkey, `${ORIGIN}+${expected.toString('hex')}+${Buffer.concat([Buffer.from([1]), raw]).toString('base64')}`)
  const parsed = parseVerifierKey(vkey)
  t.equal(parsed.name, ORIGIN)
  t.same(parsed.keyId, expected)
  t.ok(parsed.publicKey.equals(publicKey))
  t.ok(verifySignedCheckpoint(signCheckpoint(cp, signer), parsed).ok, 'a parsed verifier key verifies')

  // Verifier keys whose base64 contains '+' (transparency-dev/formats test key).
  t.equal(parseVerifierKey('TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6').name, 'TEST')

  for (const bad of [
    '',
    'PeterNeumann',
    'PeterNeumann+c74f20a3',
    'PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', // wrong key ID
    'PeterNeumenn+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', // wrong name
    'PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', // short ID
    'PeterNeumann+c74f20a3+Apc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', // bad base64 length
    'PeterNeumann+c74f20a3+AhpcZ2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T', // algorithm 0x02
    'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWAA==', // too long
    'Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', // space in name
  ]) {
    t.throws(() => parseVerifierKey(bad), `rejects ${JSON.stringify(bad)}`)
  }
})

t.test('golang.org/x/mod/sumdb/note reference example', async (t) => {
  const seed = Buffer.from(GO_SIGNER.split('+').slice(4).join('+'), 'base64').subarray(1)
  const goPrivate = ed25519FromSeed(seed)
  const goPublic = createPublicKey(goPrivate)
  t.equal(publicKeyVerifierString('PeterNeumann', goPublic), GO_VERIFIER, 'same verifier key string')
  t.equal(keyId('PeterNeumann', goPublic).toString('hex'), 'c74f20a3', 'same key ID')
  const parsed = parseVerifierKey(GO_VERIFIER)
  const sig = Buffer.concat([parsed.keyId, sign(null, Buffer.from(GO_TEXT), goPrivate)]).toString('base64')
  t.equal(sig, GO_SIG, 'same signature line (Ed25519 is deterministic)')
  t.ok(verify(null, Buffer.from(GO_TEXT), parsed.publicKey, Buffer.from(GO_SIG, 'base64').subarray(4)))
  // The Go note is well-formed as a signed note but is not a checkpoint.
  t.throws(() => parseSignedCheckpoint(`${GO_TEXT}\n\u2014 PeterNeumann ${GO_SIG}\n`), CheckpointFormatError)
})

t.test('verification fails on tampering', async (t) => {
  const note = signCheckpoint(cp, signer)
  const body = checkpointBody(cp)
  const sigBlock = note.slice(body.length)
  const resign = (changed: Checkpoint): string => checkpointBody(changed) + sigBlock // old signature, new body

  const cases: Array<[string, string, { name: string; publicKey: KeyObject }]> = [
    ['changed tree size', resign({ ...cp, treeSize: cp.treeSize + 1 }), verifier],
    ['changed root', resign({ ...cp, rootHash: createHash('sha256').update('other').digest() }), verifier],
    ['changed time', resign({ ...cp, time: new Date(cp.time.getTime() + 1) }), verifier],
    ['changed origin', resign({ ...cp, origin: 'evil.example/ledger' }), verifier],
    ['wrong key', note, { name: ORIGIN, publicKey: generateKeyPairSync('ed25519').publicKey }],
    ['wrong key name', note, { name: 'townsquare.example/other', publicKey }],
    ['truncated signature', note.replace(/.{8}=\n$/, '=\n'), verifier],
    ['signature cut short', note.replace(/[A-Za-z0-9+/]{4}=\n$/, ''), verifier],
    ['no signature', body + '\n', verifier],
    ['no blank line', body + sigBlock.slice(1), verifier],
    ['flipped signature byte', flipSignatureByte(note, 40), verifier],
    ['flipped key ID byte', flipSignatureByte(note, 0), verifier],
    ['garbage', 'garbage', verifier],
    ['empty', '', verifier],
    ['carriage returns', note.replace(/\n/g, '\r\n'), verifier],
    ['extra extension line', body + 'extra\n' + sigBlock, verifier],
    ['leading zero tree size', note.replace('\n1234567\n', '\n01234567\n'), verifier],
    ['bad time', note.replace('time 2024-05-06T07:08:09.010Z', 'time 2024-05-06T07:08:09Z'), verifier],
    ['impossible date', note.replace('time 2024-05-06', 'time 2024-02-30'), verifier],
    ['short root', note.replace(cp.rootHash.toString('base64'), cp.rootHash.subarray(1).toString('base64')), verifier],
    ['trailing garbage', note + 'x', verifier],
    ['not an em dash', note.replace('\u2014', '-'), verifier],
    ['unusable verifier key', note, { name: ORIGIN, publicKey: generateKeyPairSync('x25519').publicKey }],
  ]
  for (const [desc, text, key] of cases) {
    let result: ReturnType<typeof verifySignedCheckpoint> | undefined
    t.doesNotThrow(() => {
      result = verifySignedCheckpoint(text, key)
    }, desc)
    t.equal(result?.ok, false, desc)
    if (result && !result.ok) t.type(result.reason, 'string')
  }
  t.equal(verifySignedCheckpoint(note, undefined as never).ok, false, 'no key at all')
  t.equal(verifySignedCheckpoint(42 as never, verifier).ok, false, 'not a string')
  t.ok(verifySignedCheckpoint(note, verifier).ok, 'the untouched note still verifies')
})

function flipSignatureByte(note: string, byte: number): string {
  const line = note.slice(note.lastIndexOf('\u2014'))
  const [, name, b64] = line.trimEnd().split(' ') as [string, string, string]
  const bytes = Buffer.from(b64, 'base64')
  bytes[byte] = bytes[byte]! ^ 0x01
  return note.slice(0, note.lastIndexOf('\u2014')) + `\u2014 ${name} ${bytes.toString('base64')}\n`
}

t.test('multiple signers and unknown signatures', async (t) => {
  const witness = generateKeyPairSync('ed25519')
  const note = signCheckpoint(cp, [signer, { name: 'witness.example/w1', privateKey: witness.privateKey }])
  t.equal(parseSignedCheckpoint(note).signatures.length, 2)
  t.ok(verifySignedCheckpoint(note, verifier).ok, 'log key verifies, witness signature ignored')
  t.ok(verifySignedCheckpoint(note, { name: 'witness.example/w1', publicKey: witness.publicKey }).ok, 'witness key verifies')

  // A foreign signature line with another algorithm/length is ignored, not an error.
  const foreign = `\u2014 other.example/key ${Buffer.alloc(72, 7).toString('base64')}\n`
  t.ok(verifySignedCheckpoint(signCheckpoint(cp, signer) + foreign, verifier).ok)

  // A line with our name and key ID but a bad signature rejects the whole note.
  const good = signCheckpoint(cp, signer)
  const forged = good + flipSignatureByte(good, 10).slice(good.lastIndexOf('\u2014'))
  const result = verifySignedCheckpoint(forged, verifier)
  t.equal(result.ok, false)
})

t.test('key names are validated', async (t) => {
  for (const name of ['', 'has space', 'has+plus', 'has\nnewline', 'tab\there', 'nbsp\u00a0x']) {
    t.throws(() => signCheckpoint(cp, { name, privateKey }), TypeError, JSON.stringify(name))
    t.throws(() => keyId(name, publicKey), TypeError, JSON.stringify(name))
    t.throws(() => publicKeyVerifierString(name, publicKey), TypeError, JSON.stringify(name))
  }
  t.throws(() => signCheckpoint(cp, { name: ORIGIN, privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey }), TypeError)
  t.throws(() => signCheckpoint(cp, []), TypeError)
})

t.test('parse errors are clear', async (t) => {
  t.throws(() => parseSignedCheckpoint('garbage'), { name: 'CheckpointFormatError', message: /blank line/ })
  t.throws(() => parseSignedCheckpoint(checkpointBody(cp) + '\n'), { message: /no signatures/ })
  const note = signCheckpoint(cp, signer)
  t.throws(() => parseSignedCheckpoint(note.slice(0, -1)), { message: /newline/ })
  t.throws(() => parseSignedCheckpoint(note.replace('1234567', '12x')), { message: /tree size/ })
})
