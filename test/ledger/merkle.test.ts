import t from 'tap'
import {
  CompactRange,
  EMPTY_ROOT,
  MissingNodeError,
  consistencyProof,
  frontierNodeIds,
  hashChildren,
  hashLeaf,
  inclusionProof,
  mapNodeSource,
  requiredNodes,
  rootFromLeafHashes,
  subtreeHash,
  verifyConsistency,
  verifyInclusion,
} from '../../src/ledger/merkle.js'
import type { NodeSource, StoredNode } from '../../src/ledger/merkle.js'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const h = (s: string): Buffer => Buffer.from(s, 'hex')

// Certificate Transparency reference leaves and roots (/work/shared/merkle-test-vectors.md;
// identical to transparency-dev/merkle proof/verify_test.go).
const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(h)
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
]
const REF_LEAF_HASHES = LEAVES.map((d) => hashLeaf(d))

// transparency-dev/merkle proof/verify_test.go (RFC 6962 reference tests), 0-based leaf index.
const REF_INCLUSION: Array<{ index: number; size: number; proof: string[] }> = [
  { index: 0, size: 1, proof: [] },
  {
    index: 0,
    size: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    index: 5,
    size: 8,
    proof: [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  { index: 2, size: 3, proof: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
  {
    index: 1,
    size: 5,
    proof: [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
]

const REF_CONSISTENCY: Array<{ m: number; n: number; proof: string[] }> = [
  { m: 1, n: 1, proof: [] },
  {
    m: 1,
    n: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    m: 6,
    n: 8,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  {
    m: 2,
    n: 5,
    proof: [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
  {
    m: 6,
    n: 7,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
]

const SOME_HASH = h('abacaba000000000000000000000000000000000000000000060061e00123456')

// ---------------------------------------------------------------------------------------
// Brute-force helpers (independent of the module's proof code)

/** Every perfect node of the tree over `leafHashes`, by level. */
function perfectLevels(leafHashes: readonly Buffer[]): Buffer[][] {
  const levels: Buffer[][] = [[...leafHashes]]
  for (;;) {
    const below = levels[levels.length - 1]!
    if (below.length < 2) break
    const next: Buffer[] = []
    for (let i = 0; i + 1 < below.length; i += 2) next.push(hashChildren(below[i]!, below[i + 1]!))
    levels.push(next)
  }
  return levels
}

function perfectNodes(leafHashes: readonly Buffer[]): StoredNode[] {
  return perfectLevels(leafHashes).flatMap((hashes, level) => hashes.map((hash, index) => ({ level, index, hash })))
}

function treeSource(leafHashes: readonly Buffer[]): NodeSource {
  return mapNodeSource(perfectNodes(leafHashes))
}

function makeLeafHashes(n: number, salt = 'townsquare'): Buffer[] {
  return Array.from({ length: n }, (_, i) => hashLeaf(Buffer.from(`${salt} record ${i}`)))
}

/** Deterministic PRNG (mulberry32) so failures are reproducible. */
function rng(seed: number): (n: number) => number {
  let a = seed >>> 0
  return (n: number) => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = a
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return Math.floor((((x ^ (x >>> 14)) >>> 0) / 4294967296) * n)
  }
}

function flipByte(proof: readonly Buffer[], element: number, byte: number): Buffer[] {
  return proof.map((p, i) => {
    if (i !== element) return p
    const copy = Buffer.from(p)
    copy[byte] = copy[byte]! ^ 0x01
    return copy
  })
}

// ---------------------------------------------------------------------------------------

t.test('hash primitives (RFC 9162 §2.1.1)', async (t) => {
  t.equal(hex(EMPTY_ROOT), ROOTS[0])
  t.equal(hex(hashLeaf(new Uint8Array())), '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d')
  t.equal(hex(hashChildren(REF_LEAF_HASHES[0]!, REF_LEAF_HASHES[1]!)), ROOTS[2])
})

t.test('reference roots for n = 0..8', async (t) => {
  for (let n = 0; n <= 8; n++) {
    const leafHashes = REF_LEAF_HASHES.slice(0, n)
    t.equal(hex(rootFromLeafHashes(leafHashes)), ROOTS[n], `rootFromLeafHashes n=${n}`)
    t.equal(hex(subtreeHash(0, n, treeSource(REF_LEAF_HASHES))), ROOTS[n], `subtreeHash n=${n}`)
    const range = new CompactRange()
    for (const lh of leafHashes) range.append(lh)
    t.equal(hex(range.root()), ROOTS[n], `CompactRange n=${n}`)
  }
})

t.test('reference inclusion proofs', async (t) => {
  const source = treeSource(REF_LEAF_HASHES)
  for (const { index, size, proof } of REF_INCLUSION) {
    const got = inclusionProof(index, size, source)
    t.same(got.map(hex), proof, `PATH(${index}, D[${size}])`)
    const root = h(ROOTS[size]!)
    const leaf = REF_LEAF_HASHES[index]!
    t.ok(verifyInclusion(leaf, index, size, got, root), `verifies ${index}/${size}`)

    // The corruptions of transparency-dev/merkle's verifierCheck.
    const bad: Array<[string, number, number, Uint8Array, Uint8Array[], Uint8Array]> = [
      ['index - 1', index - 1, size, leaf, got, root],
      ['index + 1', index + 1, size, leaf, got, root],
      ['index ^ 2', index ^ 2, size, leaf, got, root],
      ['size * 2', index, size * 2, leaf, got, root],
      ['size / 2', index, Math.floor(size / 2), leaf, got, root],
      ['wrong leaf', index, size, Buffer.from('WrongLeaf'), got, root],
      ['wrong leaf (32 bytes)', index, size, SOME_HASH, got, root],
      ['empty root', index, size, leaf, got, EMPTY_ROOT],
      ['random root', index, size, leaf, got, SOME_HASH],
      ['trailing garbage', index, size, leaf, [...got, Buffer.alloc(0)], root],
      ['trailing root', index, size, leaf, [...got, root], root],
      ['preceding garbage', index, size, leaf, [Buffer.alloc(0), ...got], root],
      ['preceding root', index, size, leaf, [root, ...got], root],
    ]
    for (let i = 0; i < got.length; i++) bad.push([`modified proof[${i}]`, index, size, leaf, flipByte(got, i, 0), root])
    if (got.length > 0) bad.push(['removed component', index, size, leaf, got.slice(0, -1), root])
    if (got.length > 1) bad.push(['inserted component', index, size, leaf, [got[0]!, SOME_HASH, ...got.slice(1)], root])
    for (const [desc, i, s, l, p, r] of bad) t.notOk(verifyInclusion(l, i, s, p, r), `${index}/${size}: ${desc}`)
  }
})

t.test('reference consistency proofs', async (t) => {
  const source = treeSource(REF_LEAF_HASHES)
  for (const { m, n, proof } of REF_CONSISTENCY) {
    const got = consistencyProof(m, n, source)
    t.same(got.map(hex), proof, `PROOF(${m}, D[${n}])`)
    const r1 = h(ROOTS[m]!)
    const r2 = h(ROOTS[n]!)
    t.ok(verifyConsistency(m, n, got, r1, r2), `verifies ${m} -> ${n}`)
    if (got.length === 0) continue
    // The corruptions of transparency-dev/merkle's verifierConsistencyCheck.
    const bad: Array<[string, number, number, Uint8Array[], Uint8Array, Uint8Array]> = [
      ['size1 - 1', m - 1, n, got, r1, r2],
      ['size1 + 1', m + 1, n, got, r1, r2],
      ['size1 ^ 2', m ^ 2, n, got, r1, r2],
      ['size2 * 2', m, n * 2, got, r1, r2],
      ['size2 / 2', m, Math.floor(n / 2), got, r1, r2],
      ['wrong root1', m, n, got, Buffer.from('WrongRoot'), r2],
      ['wrong root2', m, n, got, r1, Buffer.from('WrongRoot')],
      ['swapped roots', m, n, got, r2, r1],
      ['empty proof', m, n, [], r1, r2],
      ['trailing garbage', m, n, [...got, Buffer.alloc(0)], r1, r2],
      ['trailing root1', m, n, [...got, r1], r1, r2],
      ['trailing root2', m, n, [...got, r2], r1, r2],
      ['preceding garbage', m, n, [Buffer.alloc(0), ...got], r1, r2],
      ['preceding root1', m, n, [r1, ...got], r1, r2],
      ['preceding root2', m, n, [r2, ...got], r1, r2],
      ['preceding proof[0]', m, n, [got[0]!, ...got], r1, r2],
      ['truncated proof', m, n, got.slice(0, -1), r1, r2],
    ]
    for (let i = 0; i < got.length; i++) bad.push([`modified proof[${i}]`, m, n, flipByte(got, i, 0), r1, r2])
    for (const [desc, s1, s2, p, a, b] of bad) t.notOk(verifyConsistency(s1, s2, p, a, b), `${m} -> ${n}: ${desc}`)
  }
})

t.test('trivial consistency cases', async (t) => {
  const r1 = h(ROOTS[1]!)
  const r2 = h(ROOTS[2]!)
  t.ok(verifyConsistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT))
  t.ok(verifyConsistency(1, 1, [], r1, r1))
  t.ok(verifyConsistency(0, 2, [], EMPTY_ROOT, r2), 'the empty tree is a prefix of every tree')
  t.notOk(verifyConsistency(0, 2, [], r1, r2), 'size 0 requires the empty root')
  t.notOk(verifyConsistency(1, 1, [], r1, r2), 'same size, different roots')
  t.notOk(verifyConsistency(0, 0, [EMPTY_ROOT], EMPTY_ROOT, EMPTY_ROOT), 'same size, non-empty proof')
  t.notOk(verifyConsistency(0, 1, [EMPTY_ROOT], EMPTY_ROOT, r1), 'size 0, non-empty proof')
  t.notOk(verifyConsistency(1, 1, [EMPTY_ROOT], r1, r1), 'same size, non-empty proof')
  t.notOk(verifyConsistency(1, 0, [], r1, EMPTY_ROOT), 'time travel')
  t.notOk(verifyConsistency(2, 1, [], r2, r1), 'time travel')
  t.notOk(verifyConsistency(1, 2, [], r1, r2), 'empty proof')
  t.same(consistencyProof(0, 5, treeSource(REF_LEAF_HASHES)), [])
  t.same(consistencyProof(5, 5, treeSource(REF_LEAF_HASHES)), [])
})

t.test('malformed input never throws', async (t) => {
  const leaf = REF_LEAF_HASHES[0]!
  const root = h(ROOTS[1]!)
  const junk: unknown[] = [undefined, null, -1, 1.5, NaN, Infinity, 2 ** 53, '1', {}, [1], [Buffer.alloc(31)]]
  for (const x of junk) {
    const v = x as never
    t.notOk(verifyInclusion(v, 0, 1, [], root), `leaf ${String(x)}`)
    t.notOk(verifyInclusion(leaf, v, 1, [], root), `index ${String(x)}`)
    t.notOk(verifyInclusion(leaf, 0, v, [], root), `size ${String(x)}`)
    t.notOk(verifyInclusion(leaf, 0, 1, v, root), `proof ${String(x)}`)
    t.notOk(verifyInclusion(leaf, 0, 1, [], v), `root ${String(x)}`)
    t.notOk(verifyConsistency(v, 2, [], root, root), `size1 ${String(x)}`)
    t.notOk(verifyConsistency(1, v, [], root, root), `size2 ${String(x)}`)
    t.notOk(verifyConsistency(1, 2, v, root, root), `proof ${String(x)}`)
    t.notOk(verifyConsistency(1, 2, [root], v, root), `root1 ${String(x)}`)
    t.notOk(verifyConsistency(1, 2, [root], root, v), `root2 ${String(x)}`)
  }
  t.notOk(verifyInclusion(leaf, 1, 1, [], root), 'index == size')
  t.notOk(verifyInclusion(leaf, 0, 0, [], EMPTY_ROOT), 'empty tree')
  t.ok(verifyInclusion(leaf, 0, 1, [], root), 'the valid case verifies')
})

t.test('generation rejects impossible requests', async (t) => {
  const source = treeSource(REF_LEAF_HASHES)
  t.throws(() => inclusionProof(3, 3, source), RangeError)
  t.throws(() => inclusionProof(-1, 3, source), RangeError)
  t.throws(() => consistencyProof(4, 3, source), RangeError)
  t.throws(() => subtreeHash(1, 3, source), RangeError, 'unaligned range')
  t.throws(() => subtreeHash(2, 1, source), RangeError, 'reversed range')
  t.throws(() => inclusionProof(0, 9, source), MissingNodeError, 'nodes beyond the tree are missing')
  t.throws(() => mapNodeSource([{ level: 0, index: 0, hash: Buffer.alloc(31) }]), TypeError)
})

t.test('property: every inclusion proof for sizes 1..300', async (t) => {
  const N = 300
  const leafHashes = makeLeafHashes(N)
  const source = treeSource(leafHashes)
  const rand = rng(1)
  let checked = 0
  let failures = 0
  const fail = (msg: string): void => {
    failures++
    if (failures <= 10) t.fail(msg)
  }
  for (let size = 1; size <= N; size++) {
    const root = rootFromLeafHashes(leafHashes.slice(0, size))
    const otherRoot = rootFromLeafHashes(leafHashes.slice(0, size - 1))
    for (let index = 0; index < size; index++) {
      const leaf = leafHashes[index]!
      const proof = inclusionProof(index, size, source)
      checked++
      if (!verifyInclusion(leaf, index, size, proof, root)) fail(`${index}/${size} does not verify`)
      if (verifyInclusion(leaf, index, size, proof, otherRoot)) fail(`${index}/${size} verifies against root of size ${size - 1}`)
      for (const wrong of [index - 1, index + 1, index ^ 2, index ^ 8]) {
        if (wrong !== index && wrong >= 0 && verifyInclusion(leaf, wrong, size, proof, root)) {
          fail(`${index}/${size} verifies at index ${wrong}`)
        }
      }
      // Every byte of every element for sizes <= 40; beyond, one random byte of a random element.
      if (size <= 40) {
        for (let e = 0; e < proof.length; e++) {
          for (let b = 0; b < 32; b++) {
            if (verifyInclusion(leaf, index, size, flipByte(proof, e, b), root)) fail(`${index}/${size}: flipped proof[${e}][${b}] verifies`)
          }
        }
      } else {
        const e = rand(proof.length)
        const b = rand(32)
        if (verifyInclusion(leaf, index, size, flipByte(proof, e, b), root)) fail(`${index}/${size}: flipped proof[${e}][${b}] verifies`)
      }
    }
  }
  t.equal(failures, 0, `${checked} inclusion proofs checked`)
})

t.test('property: every consistency proof for 0 <= m <= n <= 130', async (t) => {
  const N = 130
  const leafHashes = makeLeafHashes(N)
  const otherLeafHashes = makeLeafHashes(N, 'forked')
  const source = treeSource(leafHashes)
  const roots = Array.from({ length: N + 1 }, (_, n) => rootFromLeafHashes(leafHashes.slice(0, n)))
  const otherRoots = Array.from({ length: N + 1 }, (_, n) => rootFromLeafHashes(otherLeafHashes.slice(0, n)))
  const rand = rng(2)
  let checked = 0
  let failures = 0
  const fail = (msg: string): void => {
    failures++
    if (failures <= 10) t.fail(msg)
  }
  for (let n = 0; n <= N; n++) {
    for (let m = 0; m <= n; m++) {
      const proof = consistencyProof(m, n, source)
      checked++
      if (!verifyConsistency(m, n, proof, roots[m]!, roots[n]!)) fail(`${m} -> ${n} does not verify`)
      if (m === 0) continue // the empty tree is a prefix of every tree
      if (m < n && verifyConsistency(m, n, proof, otherRoots[m]!, roots[n]!)) fail(`${m} -> ${n} verifies with a forked old root`)
      if (verifyConsistency(m, n, proof, roots[m]!, otherRoots[n]!)) fail(`${m} -> ${n} verifies with a forked new root`)
      if (m === n) continue
      if (verifyConsistency(m, n, proof, otherRoots[m]!, otherRoots[n]!)) fail(`${m} -> ${n} verifies for another tree`)
      if (m > 1 && verifyConsistency(m - 1, n, proof, roots[m - 1]!, roots[n]!)) fail(`${m} -> ${n} verifies as ${m - 1} -> ${n}`)
      if (m + 1 < n && verifyConsistency(m + 1, n, proof, roots[m + 1]!, roots[n]!)) fail(`${m} -> ${n} verifies as ${m + 1} -> ${n}`)
      if (verifyConsistency(m, n, proof.slice(0, -1), roots[m]!, roots[n]!)) fail(`${m} -> ${n} verifies truncated`)
      if (verifyConsistency(m, n, [...proof, roots[n]!], roots[m]!, roots[n]!)) fail(`${m} -> ${n} verifies extended`)
      for (let e = 0; e < proof.length; e++) {
        const bytes = n <= 32 ? Array.from({ length: 32 }, (_, i) => i) : [rand(32)]
        for (const b of bytes) {
          if (verifyConsistency(m, n, flipByte(proof, e, b), roots[m]!, roots[n]!)) fail(`${m} -> ${n}: flipped proof[${e}][${b}] verifies`)
        }
      }
    }
  }
  t.equal(failures, 0, `${checked} consistency proofs checked`)
})

t.test('CompactRange: roots, emitted nodes, resuming', async (t) => {
  const N = 600
  const leafHashes = makeLeafHashes(N)
  const all = perfectNodes(leafHashes)
  const levels = perfectLevels(leafHashes)
  const key = (n: { level: number; index: number; hash: Uint8Array }): string => `${n.level}/${n.index}/${hex(n.hash)}`
  const range = new CompactRange()
  t.equal(range.size, 0)
  t.same(range.frontier, [])
  t.equal(hex(range.root()), hex(EMPTY_ROOT))
  const emitted = new Set<string>()
  let failures = 0
  for (let size = 1; size <= N; size++) {
    const nodes = range.append(leafHashes[size - 1]!)
    // Exactly the perfect nodes whose range ends at this size, lowest level first.
    const expected = all.filter((n) => (n.index + 1) * 2 ** n.level === size).sort((a, b) => a.level - b.level)
    if (nodes.map(key).join() !== expected.map(key).join()) {
      failures++
      t.fail(`append #${size} emitted the wrong nodes`)
    }
    for (const n of nodes) emitted.add(key(n))
    if (range.size !== size || !range.root().equals(rootFromLeafHashes(leafHashes.slice(0, size)))) {
      failures++
      t.fail(`root differs at size ${size}`)
    }
    const ids = frontierNodeIds(size)
    if (range.frontier.length !== ids.length || ids.some((id, i) => !source(id.level, id.index).equals(range.frontier[i]!))) {
      failures++
      t.fail(`frontier differs at size ${size}`)
    }
  }
  t.equal(failures, 0, 'every size checked')
  t.same([...emitted].sort(), all.map(key).sort(), 'emitted nodes are exactly the perfect nodes')

  function source(level: number, index: number): Buffer {
    return levels[level]![index]!
  }

  const nodeSource = mapNodeSource(all)
  for (const start of [0, 1, 2, 3, 7, 8, 100, 255, 256, 511, 599]) {
    const resumed = CompactRange.fromNodeSource(start, nodeSource)
    t.equal(resumed.size, start)
    t.same(resumed.frontierNodes().map((n) => [n.level, n.index]), frontierNodeIds(start).map((n) => [n.level, n.index]))
    for (let i = start; i < N; i++) resumed.append(leafHashes[i]!)
    t.ok(resumed.root().equals(range.root()), `resumed from ${start}`)
    const viaFrontier = new CompactRange(start, CompactRange.fromNodeSource(start, nodeSource).frontier)
    t.ok(viaFrontier.root().equals(rootFromLeafHashes(leafHashes.slice(0, start))), `constructor from frontier at ${start}`)
  }
  t.same(requiredNodes((node) => CompactRange.fromNodeSource(13, node)), [
    { level: 3, index: 0 },
    { level: 2, index: 2 },
    { level: 0, index: 12 },
  ])
  t.throws(() => new CompactRange(3, [SOME_HASH]), RangeError, 'frontier of the wrong length')
  t.throws(() => new CompactRange(1, [Buffer.alloc(3)]), TypeError, 'malformed frontier hash')
  t.throws(() => range.append(Buffer.alloc(31)), TypeError, 'malformed leaf hash')
})

t.test('requiredNodes + mapNodeSource: the two-pass database pattern', async (t) => {
  const N = 70_000
  const leafHashes = makeLeafHashes(N)
  const db = new Map<string, StoredNode>()
  const range = new CompactRange()
  for (const lh of leafHashes) for (const n of range.append(lh)) db.set(`${n.level}/${n.index}`, n)
  const root = range.root()
  const fetch = (ids: Array<{ level: number; index: number }>): StoredNode[] => ids.map((id) => db.get(`${id.level}/${id.index}`)!)

  for (const index of [0, 1, 4242, 65_535, 65_536, N - 1]) {
    const ids = requiredNodes((node) => inclusionProof(index, N, node))
    t.ok(ids.length <= 2 * Math.ceil(Math.log2(N)), `inclusion ${index}: ${ids.length} lookups`)
    const proof = inclusionProof(index, N, mapNodeSource(fetch(ids)))
    t.ok(verifyInclusion(leafHashes[index]!, index, N, proof, root), `inclusion ${index} verifies`)
  }
  for (const m of [1, 2, 3, 1000, 65_536, 65_537, N - 1]) {
    const ids = requiredNodes((node) => consistencyProof(m, N, node))
    t.ok(ids.length <= 2 * Math.ceil(Math.log2(N)), `consistency ${m}: ${ids.length} lookups`)
    const proof = consistencyProof(m, N, mapNodeSource(fetch(ids)))
    const oldRoot = CompactRange.fromNodeSource(m, mapNodeSource(fetch(frontierNodeIds(m)))).root()
    t.ok(verifyConsistency(m, N, proof, oldRoot, root), `consistency ${m} verifies`)
  }
  const missing = mapNodeSource([])
  t.throws(() => inclusionProof(5, N, missing), MissingNodeError)
})

t.test('O(log n) lookups at 1,000,000 leaves and large sizes', async (t) => {
  // A tree whose leaves are all equal is a consistent tree whose perfect node at level l is
  // the same hash for every index, so huge sizes can be exercised without building them.
  const perfect: Buffer[] = [hashLeaf(Buffer.from('same'))]
  for (let l = 1; l <= 53; l++) perfect.push(hashChildren(perfect[l - 1]!, perfect[l - 1]!))
  let lookups = 0
  const source: NodeSource = (level) => {
    lookups++
    return perfect[level]!
  }
  for (const n of [1_000_000, 2 ** 40 + 12345, Number.MAX_SAFE_INTEGER]) {
    const bound = 2 * Math.ceil(Math.log2(n))
    const root = subtreeHash(0, n, source)
    t.ok(CompactRange.fromNodeSource(n, source).root().equals(root), `CompactRange agrees at ${n}`)
    for (const index of [0, 1, Math.floor(n / 2), Math.floor(n / 3), n - 1]) {
      const ids = requiredNodes((node) => inclusionProof(index, n, node))
      t.ok(ids.length <= bound, `inclusion ${index}/${n}: ${ids.length} distinct nodes (bound ${bound})`)
      lookups = 0
      const proof = inclusionProof(index, n, source)
      t.ok(lookups <= bound, `inclusion ${index}/${n}: ${lookups} lookups`)
      t.ok(verifyInclusion(perfect[0]!, index, n, proof, root), `inclusion ${index}/${n} verifies`)
    }
    for (const m of [1, 3, Math.floor(n / 2) + 1, n - 1]) {
      const ids = requiredNodes((node) => consistencyProof(m, n, node))
      t.ok(ids.length <= bound, `consistency ${m} -> ${n}: ${ids.length} distinct nodes`)
      const proof = consistencyProof(m, n, source)
      t.ok(verifyConsistency(m, n, proof, subtreeHash(0, m, source), root), `consistency ${m} -> ${n} verifies`)
    }
  }
  const ids = requiredNodes((node) => inclusionProof(123_456, 1_000_000, node))
  t.ok(ids.length <= 40, `1,000,000 leaves: ${ids.length} nodes`)
  t.equal(new Set(ids.map((n) => `${n.level}/${n.index}`)).size, ids.length, 'requiredNodes returns distinct nodes')
})

// Speed is measured by `npm run bench:ledger`, never asserted in a test (shared, noisy machines).
t.test('CompactRange over 20,000 leaves matches the recursive root', async (t) => {
  const leafHashes = makeLeafHashes(20_000)
  const range = new CompactRange()
  for (const lh of leafHashes) range.append(lh)
  t.ok(range.root().equals(rootFromLeafHashes(leafHashes)))
})
