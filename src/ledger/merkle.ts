// Merkle Tree Hash, inclusion and consistency proofs as in RFC 9162 §2.1 (Certificate
// Transparency v2; the hashing is identical to RFC 6962 §2.1), for trees of any size.
//
// Storage model: only PERFECT subtrees are stored. Node (level l, index i) is the MTH of the
// aligned, complete range of leaves [i*2^l, (i+1)*2^l); level 0 holds the leaf hashes. Every
// subtree that RFC 9162's recursion visits is a right-edge fold of at most log2(n) perfect
// nodes, so all proofs need only O(log n) node lookups.
//
// Sizes and indexes are plain numbers (exact up to 2^53); no 32-bit bit operators are used.
import { createHash } from 'node:crypto'
import { sha256Into } from './sha256.js'

const HASH_SIZE = 32
const LEAF_PREFIX = Buffer.from([0x00])
const NODE_PREFIX = Buffer.from([0x01])

/** A perfect node's position: it covers leaves [index * 2^level, (index + 1) * 2^level). */
export type NodeId = { level: number; index: number }
export type StoredNode = NodeId & { hash: Uint8Array }
/** Returns the hash of a perfect node; throws (e.g. MissingNodeError) if it is not available. */
export type NodeSource = (level: number, index: number) => Uint8Array

export class MissingNodeError extends Error {
  constructor(
    readonly level: number,
    readonly index: number,
  ) {
    super(`Merkle node not available: level ${level}, index ${index}`)
    this.name = 'MissingNodeError'
  }
}

/** RFC 9162 §2.1.1: MTH({d}) = HASH(0x00 || d). */
export function hashLeaf(data: Uint8Array): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(data).digest()
}

const NODE_MESSAGE = Buffer.alloc(65)

/**
 * RFC 9162 §2.1.1: interior node HASH(0x01 || left || right). Two 32-byte children are hashed by
 * src/ledger/sha256.ts (two blocks, no call into OpenSSL: an inclusion proof's verification is some
 * twenty of these), anything else by node:crypto.
 */
export function hashChildren(left: Uint8Array, right: Uint8Array): Buffer {
  if (left.length !== 32 || right.length !== 32) return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest()
  NODE_MESSAGE[0] = 0x01
  NODE_MESSAGE.set(left, 1)
  NODE_MESSAGE.set(right, 33)
  const out = Buffer.allocUnsafe(32)
  sha256Into(NODE_MESSAGE, 0, 65, out, 0)
  return out
}

/** RFC 9162 §2.1.1: MTH({}) = HASH(), the hash of the empty string. */
export const EMPTY_ROOT: Buffer = createHash('sha256').digest()

// ---------------------------------------------------------------------------------------
// Small integer helpers that are exact for all safe integers.

/** Largest power of two strictly smaller than n (n >= 2): the RFC 9162 §2.1.1 split point k. */
function splitPoint(n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

/** Largest power of two <= n (n >= 1). */
function floorPow2(n: number): number {
  let p = 1
  while (p * 2 <= n) p *= 2
  return p
}

function log2Exact(p: number): number {
  let l = 0
  while (p > 1) {
    p /= 2
    l++
  }
  return l
}

function isSize(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0
}

function assertSize(n: number, what: string): void {
  if (!isSize(n)) throw new RangeError(`${what} must be a non-negative safe integer, got ${String(n)}`)
}

function isHash(h: unknown): h is Uint8Array {
  return h instanceof Uint8Array && h.length === HASH_SIZE
}

function assertHash(h: Uint8Array, what: string): void {
  if (!isHash(h)) throw new TypeError(`${what} must be a ${HASH_SIZE}-byte Uint8Array`)
}

function toBuffer(h: Uint8Array): Buffer {
  return Buffer.isBuffer(h) ? h : Buffer.from(h.buffer, h.byteOffset, h.byteLength)
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && toBuffer(a).equals(b)
}

function fetchNode(node: NodeSource, level: number, index: number): Buffer {
  const h = node(level, index)
  if (!isHash(h)) throw new TypeError(`node source returned a malformed hash for level ${level}, index ${index}`)
  return toBuffer(h)
}

// ---------------------------------------------------------------------------------------
// Tree hashes

/**
 * RFC 9162 §2.1.1 MTH over the given leaf hashes. Computed bottom-up: pairing adjacent nodes
 * and carrying an unpaired last node up unchanged is equivalent to splitting at the largest
 * power of two smaller than n.
 */
export function rootFromLeafHashes(leafHashes: readonly Uint8Array[]): Buffer {
  if (leafHashes.length === 0) return EMPTY_ROOT
  let level: Uint8Array[] = leafHashes.map((h, i) => {
    assertHash(h, `leaf hash ${i}`)
    return h
  })
  while (level.length > 1) {
    const next: Uint8Array[] = []
    for (let i = 0; i + 1 < level.length; i += 2) next.push(hashChildren(level[i]!, level[i + 1]!))
    if (level.length % 2 === 1) next.push(level[level.length - 1]!)
    level = next
  }
  return Buffer.from(level[0]!)
}

/**
 * MTH(D[start:end]) built from perfect nodes, for the ranges that arise in RFC 9162 §2.1
 * recursion: start must be a multiple of the largest power of two <= (end - start). The range
 * is the concatenation of the perfect subtrees given by the binary decomposition of its size
 * (largest first) and its hash is their right-to-left fold: popcount(end - start) lookups.
 */
export function subtreeHash(start: number, end: number, node: NodeSource): Buffer {
  assertSize(start, 'start')
  assertSize(end, 'end')
  if (end < start) throw new RangeError(`subtree range [${start}, ${end}) is reversed`)
  const n = end - start
  if (n === 0) return EMPTY_ROOT
  if (start % floorPow2(n) !== 0) {
    throw new RangeError(`subtree range [${start}, ${end}) is not aligned as in RFC 9162 recursion`)
  }
  const pieces: Buffer[] = []
  let offset = start
  for (let p = floorPow2(n); p >= 1; p /= 2) {
    if (offset + p <= end) {
      pieces.push(fetchNode(node, log2Exact(p), offset / p))
      offset += p
    }
  }
  let hash = pieces[pieces.length - 1]!
  for (let i = pieces.length - 2; i >= 0; i--) hash = hashChildren(pieces[i]!, hash)
  return hash
}

// ---------------------------------------------------------------------------------------
// Proof generation

/**
 * RFC 9162 §2.1.3.1 inclusion proof PATH(index, D[0:treeSize]), ordered from the leaf's
 * sibling up to the root's children. Requires 0 <= index < treeSize.
 */
export function inclusionProof(index: number, treeSize: number, node: NodeSource): Buffer[] {
  assertSize(index, 'index')
  assertSize(treeSize, 'treeSize')
  if (index >= treeSize) throw new RangeError(`index ${index} is not below tree size ${treeSize}`)
  // Walk top-down; each step contributes one sibling subtree hash (appended last in the RFC's
  // recursive definition, so the collected list is reversed at the end).
  const topDown: Buffer[] = []
  let start = 0
  let end = treeSize
  let m = index
  while (end - start > 1) {
    const k = splitPoint(end - start)
    if (m < k) {
      // PATH(m, D[0:k]) : MTH(D[k:n])
      topDown.push(subtreeHash(start + k, end, node))
      end = start + k
    } else {
      // PATH(m - k, D[k:n]) : MTH(D[0:k])
      topDown.push(subtreeHash(start, start + k, node))
      start += k
      m -= k
    }
  }
  return topDown.reverse()
}

/**
 * RFC 9162 §2.1.4.1 consistency proof PROOF(oldSize, D[0:newSize]) = SUBPROOF(m, D[n], true),
 * ordered as the RFC's recursion emits it (deepest first). Empty when oldSize is 0 or equals
 * newSize. Requires oldSize <= newSize.
 */
export function consistencyProof(oldSize: number, newSize: number, node: NodeSource): Buffer[] {
  assertSize(oldSize, 'oldSize')
  assertSize(newSize, 'newSize')
  if (oldSize > newSize) throw new RangeError(`old size ${oldSize} exceeds new size ${newSize}`)
  if (oldSize === 0 || oldSize === newSize) return []
  const topDown: Buffer[] = []
  let start = 0
  let end = newSize
  let m = oldSize
  let b = true
  for (;;) {
    const n = end - start
    if (m === n) {
      // SUBPROOF(m, D[m], true) = {}; SUBPROOF(m, D[m], false) = {MTH(D[m])}
      if (!b) topDown.push(subtreeHash(start, end, node))
      break
    }
    const k = splitPoint(n)
    if (m <= k) {
      // SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
      topDown.push(subtreeHash(start + k, end, node))
      end = start + k
    } else {
      // SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
      topDown.push(subtreeHash(start, start + k, node))
      start += k
      m -= k
      b = false
    }
  }
  return topDown.reverse()
}

// ---------------------------------------------------------------------------------------
// Node sources

const DUMMY_HASH = Buffer.alloc(HASH_SIZE)

/**
 * Runs `fn` with a recording node source (every lookup returns a dummy hash) and returns the
 * distinct perfect nodes it asked for, in first-request order. Proof and root computations
 * choose their nodes from sizes and indexes only, so the result is exactly what a second run
 * against real data will need: fetch them in one query, then run `fn` with mapNodeSource().
 */
export function requiredNodes(fn: (node: NodeSource) => unknown): NodeId[] {
  const seen = new Set<string>()
  const out: NodeId[] = []
  fn((level, index) => {
    const key = `${level}/${index}`
    if (!seen.has(key)) {
      seen.add(key)
      out.push({ level, index })
    }
    return DUMMY_HASH
  })
  return out
}

/** A NodeSource over the given nodes; throws MissingNodeError for anything else. */
export function mapNodeSource(entries: Iterable<StoredNode>): NodeSource {
  const map = new Map<string, Buffer>()
  for (const { level, index, hash } of entries) {
    assertHash(hash, `hash of node (${level}, ${index})`)
    map.set(`${level}/${index}`, toBuffer(hash))
  }
  return (level, index) => {
    const h = map.get(`${level}/${index}`)
    if (h === undefined) throw new MissingNodeError(level, index)
    return h
  }
}

// ---------------------------------------------------------------------------------------
// Proof verification (never throws; false on any malformed input)

function isProof(proof: unknown): proof is readonly Uint8Array[] {
  return Array.isArray(proof) && proof.every(isHash)
}

/** RFC 9162 §2.1.3.2: verify that `leafHash` is at `index` in the tree of `treeSize` with `root`. */
export function verifyInclusion(
  leafHash: Uint8Array,
  index: number,
  treeSize: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  try {
    if (!isHash(leafHash) || !isHash(root) || !isSize(index) || !isSize(treeSize) || !isProof(proof)) return false
    // 1. leaf_index >= tree_size fails.
    if (index >= treeSize) return false
    // 2-3. fn = leaf_index, sn = tree_size - 1, r = hash.
    let fn = index
    let sn = treeSize - 1
    let r: Buffer = toBuffer(leafHash)
    // 4. Fold in each path element.
    for (const p of proof) {
      if (sn === 0) return false
      if (fn % 2 === 1 || fn === sn) {
        r = hashChildren(p, r)
        // If LSB(fn) is not set, shift both right until LSB(fn) is set or fn is 0.
        while (fn % 2 === 0 && fn !== 0) {
          fn /= 2
          sn = Math.floor(sn / 2)
        }
      } else {
        r = hashChildren(r, p)
      }
      fn = Math.floor(fn / 2)
      sn = Math.floor(sn / 2)
    }
    // 5. sn must be 0 and r must equal the root.
    return sn === 0 && bytesEqual(r, root)
  } catch {
    return false
  }
}

/**
 * RFC 9162 §2.1.4.2: verify that the tree (oldSize, oldRoot) is a prefix of (newSize, newRoot).
 * Trivial cases, as in transparency-dev/merkle: oldSize == newSize needs an empty proof and equal
 * roots; oldSize == 0 needs an empty proof and oldRoot == EMPTY_ROOT (newRoot is unconstrained).
 */
export function verifyConsistency(
  oldSize: number,
  newSize: number,
  proof: readonly Uint8Array[],
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
): boolean {
  try {
    if (!isSize(oldSize) || !isSize(newSize) || !isHash(oldRoot) || !isHash(newRoot) || !isProof(proof)) return false
    if (oldSize > newSize) return false
    if (oldSize === newSize) return proof.length === 0 && bytesEqual(oldRoot, newRoot)
    if (oldSize === 0) return proof.length === 0 && bytesEqual(oldRoot, EMPTY_ROOT)
    // 1. An empty path fails.
    if (proof.length === 0) return false
    // 2. If first is an exact power of 2, prepend first_hash.
    const path: readonly Uint8Array[] = floorPow2(oldSize) === oldSize ? [oldRoot, ...proof] : proof
    // 3. fn = first - 1, sn = second - 1.
    let fn = oldSize - 1
    let sn = newSize - 1
    // 4. While LSB(fn) is set, shift both right.
    while (fn % 2 === 1) {
      fn = Math.floor(fn / 2)
      sn = Math.floor(sn / 2)
    }
    // 5. fr = sr = first path element.
    let fr: Buffer = toBuffer(path[0]!)
    let sr: Buffer = fr
    // 6. Fold in the remaining elements.
    for (let i = 1; i < path.length; i++) {
      const c = path[i]!
      if (sn === 0) return false
      if (fn % 2 === 1 || fn === sn) {
        fr = hashChildren(c, fr)
        sr = hashChildren(c, sr)
        // If LSB(fn) is not set, shift both right until LSB(fn) is set or fn is 0.
        while (fn % 2 === 0 && fn !== 0) {
          fn /= 2
          sn = Math.floor(sn / 2)
        }
      } else {
        sr = hashChildren(sr, c)
      }
      fn = Math.floor(fn / 2)
      sn = Math.floor(sn / 2)
    }
    // 7. fr == first_hash, sr == second_hash and sn == 0.
    return sn === 0 && bytesEqual(fr, oldRoot) && bytesEqual(sr, newRoot)
  } catch {
    return false
  }
}

// ---------------------------------------------------------------------------------------
// Compact range (the tree's right-edge frontier)

/**
 * The perfect subtrees in the binary decomposition of `size`, largest (leftmost) first. Their
 * right-to-left fold is MTH(D[0:size]) (RFC 9162 §2.1.1).
 */
export function frontierNodeIds(size: number): NodeId[] {
  assertSize(size, 'size')
  const ids: NodeId[] = []
  let offset = 0
  for (let p = size === 0 ? 0 : floorPow2(size); p >= 1; p /= 2) {
    if (offset + p <= size) {
      ids.push({ level: log2Exact(p), index: offset / p })
      offset += p
    }
  }
  return ids
}

/**
 * A compact Merkle range [0, size): the roots of the perfect subtrees of the binary
 * decomposition of `size` (a Merkle Mountain Range over the right edge). Enough to compute the
 * root and to extend the tree leaf by leaf, emitting every perfect node as it completes.
 */
export class CompactRange {
  #size: number
  #frontier: Buffer[]

  constructor(size = 0, frontierHashes: readonly Uint8Array[] = []) {
    assertSize(size, 'size')
    const expected = frontierNodeIds(size).length
    if (frontierHashes.length !== expected) {
      throw new RangeError(`a compact range of size ${size} needs ${expected} frontier hashes, got ${frontierHashes.length}`)
    }
    frontierHashes.forEach((h, i) => assertHash(h, `frontier hash ${i}`))
    this.#size = size
    this.#frontier = frontierHashes.map((h) => Buffer.from(h))
  }

  /** Resumes from stored perfect nodes (see frontierNodeIds / requiredNodes for what it reads). */
  static fromNodeSource(size: number, node: NodeSource): CompactRange {
    return new CompactRange(
      size,
      frontierNodeIds(size).map(({ level, index }) => fetchNode(node, level, index)),
    )
  }

  get size(): number {
    return this.#size
  }

  /** Perfect-subtree roots, largest/leftmost first (a copy). */
  get frontier(): Buffer[] {
    return [...this.#frontier]
  }

  /** The frontier with node positions, largest/leftmost first. */
  frontierNodes(): Array<NodeId & { hash: Buffer }> {
    return frontierNodeIds(this.#size).map((id, i) => ({ ...id, hash: this.#frontier[i]! }))
  }

  /**
   * Appends one leaf hash and returns every perfect node that became complete: the leaf itself
   * (level 0) and then each parent up the right edge, lowest level first.
   */
  append(leafHash: Uint8Array): Array<NodeId & { hash: Buffer }> {
    assertHash(leafHash, 'leaf hash')
    if (this.#size >= Number.MAX_SAFE_INTEGER) throw new RangeError('tree size limit reached')
    let hash: Buffer = Buffer.from(leafHash)
    let index = this.#size
    let level = 0
    const completed = [{ level, index, hash }]
    // Each trailing 1-bit of the old size is a left sibling waiting on the frontier.
    while (index % 2 === 1) {
      hash = hashChildren(this.#frontier.pop()!, hash)
      index = (index - 1) / 2
      level++
      completed.push({ level, index, hash })
    }
    this.#frontier.push(hash)
    this.#size++
    return completed
  }

  /** MTH(D[0:size]) (RFC 9162 §2.1.1): the right-to-left fold of the frontier. */
  root(): Buffer {
    if (this.#frontier.length === 0) return EMPTY_ROOT
    let hash = this.#frontier[this.#frontier.length - 1]!
    for (let i = this.#frontier.length - 2; i >= 0; i--) hash = hashChildren(this.#frontier[i]!, hash)
    return hash
  }
}
