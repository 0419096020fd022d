import { createHash, createPublicKey, type KeyObject } from 'node:crypto'
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { once } from 'node:events'
import { canonicalJson, sha256Hex } from './canonical-json.js'
import { parseSignedCheckpoint, parseVerifierKey, publicKeyVerifierString, verifySignedCheckpoint, type VerifierKey } from './checkpoint.js'
import { followKeyChain } from './key-chain.js'
import { checkDisclosure, payloadCommitment, type Disclosure } from './commitment.js'
import { ENTRY_COLUMNS, entryLeafHash, entryOfRow, envelopeOf, type Envelope, type EntryRow } from './entry.js'
import { consistencyProof, inclusionProof, mapNodeSource, requiredNodes, verifyConsistency, verifyInclusion } from './merkle.js'
import { checkpointAt, latestCheckpoint, NoCheckpointYetError, type StoredCheckpoint } from './proofs.js'
import { fetchNodes, type Queryable } from './tree-store.js'

/**
 * A ledger bundle: records with everything needed to check them without the server (docs/ledger.md,
 * "Bundles"). FOIA productions are bundles with more files beside these.
 */
export const BUNDLE_FORMAT = 'townsquare-ledger-bundle/1'
export const BUNDLE_FILES = {
  manifest: 'manifest.json',
  keys: 'public-keys.txt',
  checkpoint: 'checkpoint.txt',
  checkpoints: 'checkpoints.jsonl',
  entries: 'entries.jsonl',
} as const

export interface BundleEntryLine {
  leafIndex: number
  /** The envelope whose canonical JSON is the leaf (RFC 9162 §2.1.1: leaf hash = SHA-256(0x00 || bytes)). */
  entry: Envelope
  /**
   * The payload, or null where a disposal destroyed it (its digest still binds it): the bundle then
   * holds the `disposal` entry that lists it (docs/retention.md). In a FOIA production, a format 2
   * entry's payload is what the production shows, opened by `disclosure`.
   */
  payload: unknown
  /** Format 2: the salt (hex) that opens payloadCommitment with the payload; null once disposed. Never in a production. */
  salt?: string | null
  /** Format 2, in a FOIA production: the disclosure of the shown payload (docs/ledger.md, "Disclosures"). */
  disclosure?: Disclosure
  inclusionProof: string[]
}

export interface BundleCheckpointLine {
  treeSize: number
  signedNote: string
  /** Proves the bundle's checkpoint extends this one (RFC 9162 §2.1.4). */
  consistencyProof: string[]
}

export interface Manifest {
  format: string
  createdAt: string
  origin: string
  treeSize: number
  entries: number
  files: Array<{ path: string; sha256: string; bytes: number }>
}

/**
 * A FOIA production: a bundle with records, redactions and renderings beside these files, and the
 * proof of its own foia.production ledger entry (docs/foia.md). Format 1 productions, made before
 * they carried that proof, are still read.
 */
export const FOIA_PRODUCTION_FORMAT = 'townsquare-foia-production/2'
export const FOIA_PRODUCTION_FORMAT_1 = 'townsquare-foia-production/1'

/** Bundle formats this verifier reads (a FOIA production is a bundle with more files). */
export const KNOWN_FORMATS = new Set<string>([BUNDLE_FORMAT, FOIA_PRODUCTION_FORMAT, FOIA_PRODUCTION_FORMAT_1])

export type EntrySelection = { all: true } | { ids: string[] }

async function writeLines(path: string, lines: AsyncIterable<string>): Promise<void> {
  const out = createWriteStream(path)
  for await (const line of lines) {
    if (!out.write(line + '\n')) await once(out, 'drain')
  }
  out.end()
  await once(out, 'finish')
}

export function fileDigest(path: string): Promise<{ sha256: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256')
    let bytes = 0
    createReadStream(path)
      .on('data', (chunk) => {
        hash.update(chunk)
        bytes += chunk.length
      })
      .on('error', reject)
      .on('end', () => resolve({ sha256: hash.digest('hex'), bytes }))
  })
}

/** Inclusion proofs (RFC 9162 §2.1.3) of the given leaves in the tree of `treeSize`, with one query for all their nodes. */
export async function proveLeaves(db: Queryable, indexes: readonly number[], treeSize: number): Promise<string[][]> {
  const prove = (node: Parameters<typeof inclusionProof>[2]) => indexes.map((i) => inclusionProof(i, treeSize, node))
  return prove(mapNodeSource(await fetchNodes(db, requiredNodes(prove)))).map((proof) => proof.map((h) => h.toString('hex')))
}

/** `public-keys.txt`: the verifier key of every key that ever signed a checkpoint, one a line. */
export async function publicKeysText(db: Queryable): Promise<string> {
  const keys = await db.query<{ key_name: string; public_key: string }>(`SELECT key_name, public_key FROM ledger_signing_key ORDER BY first_used`)
  return keys.rows.map((k) => publicKeyVerifierString(k.key_name, createPublicKey(k.public_key)) + '\n').join('')
}

/** Entries in leaf order with inclusion proofs to `checkpoint`, fetched and proven a batch at a time. */
async function* entryLines(db: Queryable, checkpoint: StoredCheckpoint, selection: EntrySelection, batchSize = 1000): AsyncGenerator<string> {
  const size = checkpoint.treeSize
  for (let after = -1; ; ) {
    const { rows } = await db.query<EntryRow & { leaf_index: string }>(
      `SELECT l.leaf_index::text, ${ENTRY_COLUMNS}
         FROM ledger_leaf l JOIN ledger_entry e ON e.id = l.entry_id
        WHERE l.leaf_index > $1 AND l.leaf_index < $2 ${'ids' in selection ? 'AND e.id = ANY($4::uuid[])' : ''}
        ORDER BY l.leaf_index LIMIT $3`,
      'ids' in selection ? [after, size, batchSize, selection.ids] : [after, size, batchSize],
    )
    if (rows.length === 0) return
    const indexes = rows.map((r) => Number(r.leaf_index))
    const proofs = await proveLeaves(db, indexes, size)
    for (const [i, row] of rows.entries()) {
      const line: BundleEntryLine = {
        leafIndex: indexes[i]!,
        entry: envelopeOf(entryOfRow(row)),
        payload: row.payload === null ? null : (JSON.parse(row.payload) as unknown),
        ...(row.format === 2 ? { salt: row.payload_salt === null ? null : row.payload_salt.toString('hex') } : {}),
        inclusionProof: proofs[i]!,
      }
      yield JSON.stringify(line)
    }
    after = indexes[indexes.length - 1]!
    if (rows.length < batchSize) return
  }
}

/**
 * Writes a bundle of the selected entries (all, or by id) proven against the latest checkpoint or
 * the one at `treeSize`, with every earlier checkpoint and its consistency proof, and a manifest.
 * Memory does not grow with the number of entries.
 */
export async function writeLedgerBundle(
  db: Queryable,
  dir: string,
  options: { selection: EntrySelection; treeSize?: number; now?: Date },
): Promise<Manifest> {
  const checkpoint = options.treeSize === undefined ? await latestCheckpoint(db) : await checkpointAt(db, options.treeSize)
  if (!checkpoint) throw new NoCheckpointYetError()
  const selection = await withDisposalEntries(db, options.selection)
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new Error(`${dir} is not empty`)
  mkdirSync(dir, { recursive: true })

  writeFileSync(join(dir, BUNDLE_FILES.keys), await publicKeysText(db))
  writeFileSync(join(dir, BUNDLE_FILES.checkpoint), checkpoint.signedNote)

  // Every earlier checkpoint, those of the same size signed earlier included (a rotation's first
  // checkpoint may be one): the verifier follows the keys' endorsements through them.
  const earlier = await db.query<{ tree_size: string; signed_note: string }>(
    `SELECT tree_size::text, signed_note FROM ledger_checkpoint WHERE (tree_size, issued_at) < ($1::bigint, $2::timestamptz) ORDER BY ledger_checkpoint.tree_size, issued_at`,
    [checkpoint.treeSize, checkpoint.issuedAt],
  )
  const checkpointLines = async function* () {
    for (const row of earlier.rows) {
      const from = Number(row.tree_size)
      const prove = (node: Parameters<typeof consistencyProof>[2]) => consistencyProof(from, checkpoint.treeSize, node)
      const proof = prove(mapNodeSource(await fetchNodes(db, requiredNodes(prove))))
      const line: BundleCheckpointLine = { treeSize: from, signedNote: row.signed_note, consistencyProof: proof.map((h) => h.toString('hex')) }
      yield JSON.stringify(line)
    }
  }
  await writeLines(join(dir, BUNDLE_FILES.checkpoints), checkpointLines())

  let count = 0
  const counted = async function* () {
    for await (const line of entryLines(db, checkpoint, selection)) {
      count++
      yield line
    }
  }
  await writeLines(join(dir, BUNDLE_FILES.entries), counted())

  const files = []
  for (const path of [BUNDLE_FILES.keys, BUNDLE_FILES.checkpoint, BUNDLE_FILES.checkpoints, BUNDLE_FILES.entries]) {
    files.push({ path, ...(await fileDigest(join(dir, path))) })
  }
  const manifest: Manifest = {
    format: BUNDLE_FORMAT,
    createdAt: (options.now ?? new Date()).toISOString(),
    origin: checkpoint.keyName,
    treeSize: checkpoint.treeSize,
    entries: count,
    files,
  }
  writeFileSync(join(dir, BUNDLE_FILES.manifest), JSON.stringify(manifest, null, 2) + '\n')
  return manifest
}

/** A selection of entries, plus the `disposal` entries that destroyed any of their payloads. */
async function withDisposalEntries(db: Queryable, selection: EntrySelection): Promise<EntrySelection> {
  if (!('ids' in selection)) return selection
  const { rows } = await db.query<{ id: string }>(
    `SELECT DISTINCT d.id::text FROM ledger_entry d CROSS JOIN LATERAL jsonb_array_elements(d.payload::jsonb -> 'ledgerEntries') x
      WHERE d.kind = 'disposal' AND d.payload IS NOT NULL AND x ->> 'id' = ANY($1::text[])`,
    [selection.ids],
  )
  return { ids: [...new Set([...selection.ids, ...rows.map((r) => r.id)])] }
}

// ---------------------------------------------------------------------------------------------
// Offline verification: files and a public key only.

export interface BundleProblem {
  /** `file` or `file:line`. */
  item: string
  problem: string
}

export interface BundleReport {
  ok: boolean
  treeSize: number | null
  entriesVerified: number
  /** Verified entries whose payload was destroyed by a disposal listed in the bundle. */
  entriesDisposed: number
  checkpointsVerified: number
  problems: BundleProblem[]
}

function asHashes(value: unknown): Buffer[] | null {
  if (!Array.isArray(value) || !value.every((h) => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h))) return null
  return value.map((h: string) => Buffer.from(h, 'hex'))
}

/**
 * Checks a bundle end to end: the manifest's file hashes, the checkpoint's signature (against the
 * trusted key when given, else the bundle's own keys, which the caller should compare with the
 * city's published key), every earlier checkpoint's signature and consistency, and every entry's
 * payload hash, leaf and inclusion proof. Reports every problem found, each with its file and line.
 */
export async function verifyLedgerBundle(
  dir: string,
  options: {
    trustedKeys?: string[]
    /**
     * A FOIA production withholds the payload of a redacted entry (its line says `redacted: true`);
     * the production's own verifier accounts for each one against its redactions.
     */
    allowRedacted?: boolean
    /**
     * Files the caller verifies itself, allowed beside the manifest's (a FOIA production's proof of
     * its own ledger entry, which cannot be in the manifest it proves). Any other file is refused.
     */
    extraFiles?: readonly string[]
  } = {},
): Promise<BundleReport> {
  const problems: BundleProblem[] = []
  const report = (treeSize: number | null, entriesVerified = 0, checkpointsVerified = 0, entriesDisposed = 0): BundleReport => ({
    ok: problems.length === 0,
    treeSize,
    entriesVerified,
    entriesDisposed,
    checkpointsVerified,
    problems,
  })

  let manifest: Manifest
  try {
    manifest = JSON.parse(readFileSync(join(dir, BUNDLE_FILES.manifest), 'utf8')) as Manifest
  } catch (error) {
    problems.push({ item: BUNDLE_FILES.manifest, problem: `unreadable: ${(error as Error).message}` })
    return report(null)
  }
  if (!KNOWN_FORMATS.has(manifest.format)) {
    problems.push({ item: BUNDLE_FILES.manifest, problem: `unknown format ${JSON.stringify(manifest.format)}` })
  }
  const listed = new Set<string>()
  for (const file of manifest.files ?? []) {
    listed.add(file.path)
    const path = join(dir, file.path)
    if (!existsSync(path)) {
      problems.push({ item: file.path, problem: 'listed in the manifest but missing' })
      continue
    }
    const digest = await fileDigest(path)
    if (digest.sha256 !== file.sha256) {
      problems.push({ item: file.path, problem: `SHA-256 is ${digest.sha256}, the manifest says ${file.sha256}` })
    }
  }
  // Nothing in the folder goes unchecked: a file the manifest does not list is refused by name.
  const allowed = new Set([BUNDLE_FILES.manifest, ...listed, ...(options.extraFiles ?? [])])
  for (const name of readdirSync(dir).sort()) {
    if (!allowed.has(name)) problems.push({ item: name, problem: 'is in the bundle but not in its manifest: an unknown file' })
  }
  for (const required of [BUNDLE_FILES.checkpoint, BUNDLE_FILES.entries]) {
    if (!listed.has(required)) problems.push({ item: BUNDLE_FILES.manifest, problem: `does not list ${required}` })
  }

  // Candidate keys: the bundle's own, and the trusted ones; a checkpoint counts only when its key
  // is trusted or linked to a trusted key by endorsements (src/ledger/key-chain.ts).
  let keys: Array<VerifierKey & { keyId: Buffer }>
  let trusted: Array<VerifierKey & { keyId: Buffer }> | null = null
  try {
    const parse = (lines: string[]) => lines.map((l) => l.trim()).filter(Boolean).map((l) => parseVerifierKey(l))
    if (options.trustedKeys) trusted = parse(options.trustedKeys)
    const bundleKeys = () => readFileSync(join(dir, BUNDLE_FILES.keys), 'utf8').split('\n')
    // With trusted keys, the bundle's own are only candidates the chain may link: unreadable ones are skipped.
    const lenient = (lines: string[]) => lines.flatMap((l) => { try { return parse([l]) } catch { return [] } })
    const own = trusted ? (existsSync(join(dir, BUNDLE_FILES.keys)) ? lenient(bundleKeys()) : []) : parse(bundleKeys())
    keys = [...(trusted ?? []), ...own.filter((k) => !(trusted ?? []).some((t) => t.keyId.equals(k.keyId)))]
  } catch (error) {
    problems.push({ item: options.trustedKeys ? '--key' : BUNDLE_FILES.keys, problem: `unreadable key: ${(error as Error).message}` })
    return report(null)
  }
  const chainSteps: Array<{ item: string; signers: string[] }> = []
  const verifyNote = (note: string, item: string) => {
    const reasons: string[] = []
    let first: ReturnType<typeof verifySignedCheckpoint> | null = null
    const signers: string[] = []
    let order: string[] = []
    try {
      order = parseSignedCheckpoint(note).signatures.map((s) => s.keyId.toString('hex'))
    } catch {
      // verifySignedCheckpoint names the problem below
    }
    for (const key of keys) {
      const result = verifySignedCheckpoint(note, { name: key.name, publicKey: key.publicKey as KeyObject })
      if (result.ok) {
        first ??= result
        signers.push(key.keyId.toString('hex'))
      } else reasons.push(result.reason)
    }
    signers.sort((a, b) => order.indexOf(a) - order.indexOf(b))
    chainSteps.push({ item, signers })
    return first ?? { ok: false as const, reason: reasons.join('; ') || 'no key' }
  }

  const note = readFileSync(join(dir, BUNDLE_FILES.checkpoint), 'utf8')
  const target = verifyNote(note, BUNDLE_FILES.checkpoint)
  if (!target.ok) {
    problems.push({ item: BUNDLE_FILES.checkpoint, problem: `signature does not verify: ${target.reason}` })
    return report(null)
  }
  const { treeSize, rootHash } = target.checkpoint
  if (manifest.treeSize !== treeSize) problems.push({ item: BUNDLE_FILES.manifest, problem: `treeSize ${manifest.treeSize} differs from the checkpoint's ${treeSize}` })

  let checkpointsVerified = 1
  if (existsSync(join(dir, BUNDLE_FILES.checkpoints))) {
    let lineNo = 0
    for await (const text of createInterface({ input: createReadStream(join(dir, BUNDLE_FILES.checkpoints)), crlfDelay: Infinity })) {
      lineNo++
      if (!text.trim()) continue
      const item = `${BUNDLE_FILES.checkpoints}:${lineNo}`
      try {
        const line = JSON.parse(text) as BundleCheckpointLine
        const old = verifyNote(line.signedNote, item)
        const proof = asHashes(line.consistencyProof)
        if (!old.ok) problems.push({ item, problem: `signature does not verify: ${old.reason}` })
        else if (old.checkpoint.treeSize !== line.treeSize) problems.push({ item, problem: `treeSize ${line.treeSize} differs from the signed ${old.checkpoint.treeSize}` })
        else if (!proof || !verifyConsistency(old.checkpoint.treeSize, treeSize, proof, old.checkpoint.rootHash, rootHash)) {
          problems.push({ item, problem: `the tree of size ${treeSize} is not proven to extend the checkpoint of size ${old.checkpoint.treeSize}` })
        } else checkpointsVerified++
      } catch (error) {
        problems.push({ item, problem: `unreadable: ${(error as Error).message}` })
      }
    }
  }

  // The keys' chain, in log order: the earlier checkpoints, then the bundle's. Anchors: the trusted
  // keys, or without --key the key that signed the bundle's checkpoint (compare it with the city's).
  const inOrder = [...chainSteps.slice(1), chainSteps[0]!]
  const anchors = new Set(trusted ? trusted.map((k) => k.keyId.toString('hex')) : chainSteps[0]!.signers.slice(0, 1))
  const chain = followKeyChain(inOrder.map((s) => s.signers), anchors)
  for (const [i, problem] of chain.problems.entries()) {
    if (problem) {
      problems.push({ item: inOrder[i]!.item, problem })
      if (inOrder[i]!.item !== BUNDLE_FILES.checkpoint) checkpointsVerified--
    }
  }

  // Null payloads are settled at the end: the disposal entry that covers one comes later in the tree.
  const nullPayloads: Array<{ item: string; id: string; digest: string }> = []
  const disposedBy = new Map<string, { digest: string; disposalEntryId: string }>()
  const checkEntry = (text: string, item: string): string | null => {
    const line = JSON.parse(text) as BundleEntryLine
    const { entry } = line
    if (!entry || (entry.v !== 1 && entry.v !== 2)) return `unknown entry format ${JSON.stringify((entry as { v?: unknown } | undefined)?.v)}`
    const digest = entry.v === 2 ? entry.payloadCommitment : entry.payloadSha256
    if (typeof digest !== 'string' || !/^[0-9a-f]{64}$/.test(digest)) return `entry ${entry.id}: no ${entry.v === 2 ? 'payloadCommitment' : 'payloadSha256'}`
    const hasPayload = line.payload !== null && line.payload !== undefined
    if (entry.v === 1) {
      if ('payloadCommitment' in entry || line.salt !== undefined || line.disclosure !== undefined) return `entry ${entry.id}: a format 1 entry has no salt, commitment or disclosure`
      if (hasPayload) {
        const found = sha256Hex(canonicalJson(line.payload))
        if (found !== digest) return `entry ${entry.id}: payload hashes to ${found}, the entry commits to ${digest}`
      }
    } else {
      if ('payloadSha256' in entry) return `entry ${entry.id}: a format 2 envelope carries no payloadSha256`
      if (!hasPayload && line.salt !== null && line.salt !== undefined) return `entry ${entry.id}: a salt without a payload`
      if (hasPayload && typeof line.salt === 'string') {
        if (!/^[0-9a-f]{64}$/.test(line.salt)) return `entry ${entry.id}: the salt is not 32 bytes of hex`
        const found = payloadCommitment(line.payload, Buffer.from(line.salt, 'hex'))
        if (found !== digest) return `entry ${entry.id}: payload hashes to ${found} under its salt, the entry commits to ${digest}`
      } else if (hasPayload && line.disclosure !== undefined) {
        if (options.allowRedacted !== true) return `entry ${entry.id}: a disclosure outside a FOIA production`
        const { problem } = checkDisclosure(line.payload, line.disclosure, digest)
        if (problem) return `entry ${entry.id}: ${problem}`
      } else if (hasPayload) return `entry ${entry.id}: a format 2 payload with neither its salt nor a disclosure`
    }
    const leafHash = entryLeafHash({ ...entry, format: entry.v, payloadSha256: entry.v === 1 ? entry.payloadSha256 : null, payloadCommitment: entry.v === 2 ? entry.payloadCommitment : null, recordedAt: new Date(entry.recordedAt) })
    const proof = asHashes(line.inclusionProof)
    if (!proof || !Number.isSafeInteger(line.leafIndex) || !verifyInclusion(leafHash, line.leafIndex, treeSize, proof, rootHash)) {
      return `entry ${entry.id}: not proven to be leaf ${line.leafIndex} of the signed tree of size ${treeSize}`
    }
    if (entry.kind === 'disposal' && hasPayload && typeof line.payload === 'object') {
      const listed = (line.payload as { ledgerEntries?: Array<{ id: string; payloadSha256?: string; payloadCommitment?: string }> }).ledgerEntries ?? []
      for (const d of listed) {
        const listedDigest = d.payloadCommitment ?? d.payloadSha256
        if (typeof listedDigest === 'string') disposedBy.set(d.id, { digest: listedDigest, disposalEntryId: entry.id })
      }
    }
    const withheld = options.allowRedacted === true && (line as { redacted?: unknown }).redacted === true
    if (!hasPayload && !withheld) nullPayloads.push({ item, id: entry.id, digest })
    return null
  }
  let entriesVerified = 0
  let entryLines = 0
  let lineNo = 0
  for await (const text of createInterface({ input: createReadStream(join(dir, BUNDLE_FILES.entries)), crlfDelay: Infinity })) {
    lineNo++
    if (!text.trim()) continue
    entryLines++
    let problem: string | null
    try {
      problem = checkEntry(text, `${BUNDLE_FILES.entries}:${lineNo}`)
    } catch (error) {
      problem = `unreadable: ${(error as Error).message}`
    }
    if (problem) problems.push({ item: `${BUNDLE_FILES.entries}:${lineNo}`, problem })
    else entriesVerified++
  }
  let entriesDisposed = 0
  for (const n of nullPayloads) {
    const by = disposedBy.get(n.id)
    if (by && by.digest === n.digest) entriesDisposed++
    else {
      problems.push({ item: n.item, problem: `entry ${n.id}: payload missing, and no disposal entry in the bundle lists it with ${n.digest}` })
      entriesVerified--
    }
  }
  if (manifest.entries !== entryLines) {
    problems.push({ item: BUNDLE_FILES.manifest, problem: `lists ${manifest.entries} entries, ${BUNDLE_FILES.entries} has ${entryLines}` })
  }
  return report(treeSize, entriesVerified, checkpointsVerified, entriesDisposed)
}
