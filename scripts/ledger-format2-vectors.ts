// Writes test/ledger/format2-vectors.json: the test vectors of docs/ledger.md, "Format 2", computed
// by the reference implementation. Run once (`tsx scripts/ledger-format2-vectors.ts`); the test
// checks them against the implementation and recomputes some with openssl and sha256sum.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { canonicalJson } from '../src/ledger/canonical-json.js'
import { fieldKey, mapScalars, payloadCommitment, scalarDigest, segmentDigest, segmentKey, segments, skeleton, stringDigest } from '../src/ledger/commitment.js'
import { entryLeafBytes, entryLeafHash } from '../src/ledger/entry.js'
import { PROJECT_ROOT } from '../src/paths.js'
import { cliArgs } from '../src/cli-args.js'

cliArgs('usage: tsx scripts/ledger-format2-vectors.ts\n\nWrites test/ledger/format2-vectors.json, the test vectors of docs/ledger.md "Format 2", from the reference implementation.', { options: {} })

const payload = {
  text: 'call 555-1234 now',
  author: { name: 'Jane Q. Doe', email: null },
  platformTime: '2026-11-02T15:01:00.000Z',
  byCityAccount: false,
  n: 4,
  tags: ['  leading space', '', 'tab\tand\nnewline', 1.5],
  'a/b~c': 'é 🚲',
}
const salt = Buffer.from(Array.from({ length: 32 }, (_, i) => i))
const fields: unknown[] = []
mapScalars(payload, (pointer, value) => {
  const key = fieldKey(salt, pointer)
  if (typeof value === 'string') {
    const segs = segments(value).map((text, i) => {
      const k = segmentKey(key, i)
      return { index: i, text, key: k.toString('hex'), digest: segmentDigest(k, text).toString('hex') }
    })
    fields.push({ pointer, value, key: key.toString('hex'), segments: segs, digest: stringDigest(segs.map((s) => Buffer.from(s.digest, 'hex'))).toString('hex') })
  } else {
    fields.push({ pointer, value, key: key.toString('hex'), canonicalValue: canonicalJson(value), digest: scalarDigest(key, value).toString('hex') })
  }
  return null
})
const skel = skeleton(payload, salt)
const entry = {
  id: '0b6f3c2e-6f51-4c4e-9a51-2f3f1f6a9d10',
  kind: 'comment.version',
  subject: '5d0c1a8e-2b7a-4f3e-8c55-9f1e2d3c4b5a',
  actor: 'platform:website',
  recordedAt: new Date('2026-11-02T15:01:02.345Z'),
  format: 2,
  payloadSha256: null,
  payloadCommitment: payloadCommitment(payload, salt),
}
const vectors = {
  description: 'docs/ledger.md, "Format 2": a payload, its salt, every field key, segment key and digest, the skeleton, the commitment, the envelope and the leaf hash',
  payload,
  payloadCanonical: canonicalJson(payload),
  salt: salt.toString('hex'),
  fields,
  skeleton: skel,
  skeletonCanonical: canonicalJson(skel),
  payloadCommitment: entry.payloadCommitment,
  envelope: JSON.parse(entryLeafBytes(entry).toString('utf8')) as unknown,
  envelopeBytes: entryLeafBytes(entry).toString('utf8'),
  leafHash: entryLeafHash(entry).toString('hex'),
}
writeFileSync(join(PROJECT_ROOT, 'test/ledger/format2-vectors.json'), JSON.stringify(vectors, null, 2) + '\n')
