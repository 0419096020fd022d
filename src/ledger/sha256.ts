// SHA-256 (FIPS 180-4) in plain TypeScript, for the many short messages of a format 2 commitment
// (a field key, a segment digest: one or two 64-byte blocks each). Node's crypto costs a few
// microseconds per call whatever the length (an OpenSSL context per call); this costs a fraction of
// a microsecond per block, into buffers the caller reuses. Digests only: no secret-dependent branch
// or table lookup. test/ledger/sha256.test.ts checks it against node:crypto.

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
])

/** The initial hash value H(0). */
export const SHA256_IV: Readonly<Int32Array> = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19])

const W = new Int32Array(64)
const STATE = new Int32Array(8)
const TAIL = new Uint8Array(128)

/** One compression of the 64-byte block at `data[off]` into `state`. */
function compress(state: Int32Array, data: Uint8Array, off: number): void {
  for (let i = 0; i < 16; i++, off += 4) W[i] = (data[off]! << 24) | (data[off + 1]! << 16) | (data[off + 2]! << 8) | data[off + 3]!
  for (let i = 16; i < 64; i++) {
    const a = W[i - 15]!
    const b = W[i - 2]!
    const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3)
    const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10)
    W[i] = (W[i - 16]! + s0 + W[i - 7]! + s1) | 0
  }
  let a = state[0]!, b = state[1]!, c = state[2]!, d = state[3]!, e = state[4]!, f = state[5]!, g = state[6]!, h = state[7]!
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i]! + W[i]!) | 0
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0
    h = g
    g = f
    f = e
    e = (d + t1) | 0
    d = c
    c = b
    b = a
    a = (t1 + t2) | 0
  }
  state[0] = (state[0]! + a) | 0
  state[1] = (state[1]! + b) | 0
  state[2] = (state[2]! + c) | 0
  state[3] = (state[3]! + d) | 0
  state[4] = (state[4]! + e) | 0
  state[5] = (state[5]! + f) | 0
  state[6] = (state[6]! + g) | 0
  state[7] = (state[7]! + h) | 0
}

/** The state after hashing one 64-byte block from the IV (an HMAC's padded key). */
export function sha256BlockState(block: Uint8Array): Int32Array {
  if (block.length !== 64) throw new RangeError('sha256BlockState: a block is 64 bytes')
  const state = new Int32Array(SHA256_IV)
  compress(state, block, 0)
  return state
}

/**
 * Writes SHA-256 of `data[start, end)` to `out[outOff, outOff + 32)`. With `from` (a state after
 * `prefixBytes` bytes, a multiple of 64), the digest is of those bytes followed by the data.
 */
export function sha256Into(data: Uint8Array, start: number, end: number, out: Uint8Array, outOff: number, from: Readonly<Int32Array> = SHA256_IV, prefixBytes = 0): void {
  const state = STATE
  state.set(from)
  let off = start
  for (; end - off >= 64; off += 64) compress(state, data, off)
  const rem = end - off
  TAIL.fill(0)
  for (let i = 0; i < rem; i++) TAIL[i] = data[off + i]!
  TAIL[rem] = 0x80
  const blocks = rem + 9 > 64 ? 2 : 1
  const bits = (prefixBytes + end - start) * 8
  const last = blocks * 64
  const hi = Math.floor(bits / 0x100000000)
  TAIL[last - 8] = hi >>> 24
  TAIL[last - 7] = hi >>> 16
  TAIL[last - 6] = hi >>> 8
  TAIL[last - 5] = hi
  TAIL[last - 4] = bits >>> 24
  TAIL[last - 3] = bits >>> 16
  TAIL[last - 2] = bits >>> 8
  TAIL[last - 1] = bits
  compress(state, TAIL, 0)
  if (blocks === 2) compress(state, TAIL, 64)
  for (let i = 0; i < 8; i++, outOff += 4) {
    const w = state[i]!
    out[outOff] = w >>> 24
    out[outOff + 1] = w >>> 16
    out[outOff + 2] = w >>> 8
    out[outOff + 3] = w
  }
}
