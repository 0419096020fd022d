import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import canonicalize from 'canonicalize'
import t from 'tap'
import { canonicalJson, sha256Hex } from '../../src/ledger/canonical-json.js'
import { FIXTURES_DIR } from '../factories/webhooks.js'

/** The IEEE-754 double with the given bit pattern (RFC 8785 Appendix B lists them this way). */
function double(bits: string): number {
  const b = Buffer.from(bits, 'hex')
  return b.readDoubleBE(0)
}

t.test('RFC 8785 §3.2.3 sorting: by UTF-16 code units, incl. non-ASCII keys', async (t) => {
  const input = {
    '\u20ac': 'Euro Sign',
    '\r': 'Carriage Return',
    '\ufb33': 'Hebrew Letter Dalet With Dagesh',
    '1': 'One',
    '\ud83d\ude00': 'Emoji: Grinning Face',
    '\u0080': 'Control',
    '\u00f6': 'Latin Small Letter O With Diaeresis',
  }
  t.equal(
    canonicalJson(input),
    '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
      '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
  )
  // U+1F600 (surrogates D83D DE00) sorts before U+FB33 by code unit, though after it by code point.
})

t.test('RFC 8785 §3.2.2 example', async (t) => {
  const input = JSON.parse(
    '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],' +
      ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}',
  )
  t.equal(
    canonicalJson(input),
    '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
  )
})

t.test('RFC 8785 Appendix B number serialization', async (t) => {
  const cases: Array<[string, string]> = [
    ['0000000000000000', '0'],
    ['8000000000000000', '0'], // minus zero
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ]
  for (const [bits, expected] of cases) t.equal(canonicalJson(double(bits)), expected, `0x${bits}`)
  t.equal(canonicalJson(1e21), '1e+21')
  t.equal(canonicalJson(1e20), '100000000000000000000')
  t.equal(canonicalJson(0.000001), '0.000001')
  t.equal(canonicalJson(1e-7), '1e-7')
  t.equal(canonicalJson(-0), '0')
  t.equal(canonicalJson([-0, 0.1 + 0.2, 100, 1.5e300]), '[0,0.30000000000000004,100,1.5e+300]')
})

t.test('string escaping (RFC 8785 §3.2.2.2)', async (t) => {
  const controls = Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(i)).join('')
  t.equal(
    canonicalJson(controls),
    '"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f' +
      '\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f"',
  )
  t.equal(canonicalJson('\u2028\u2029'), '"\u2028\u2029"', 'U+2028/U+2029 are not escaped')
  t.equal(canonicalJson('"\\/\u007f\u00e9\ud83d\ude00'), '"\\"\\\\/\u007f\u00e9\ud83d\ude00"', 'only " and \\ and controls are escaped')
  t.throws(() => canonicalJson('\ud800'), TypeError, 'lone high surrogate')
  t.throws(() => canonicalJson({ ['\udc00']: 1 }), TypeError, 'lone low surrogate in a key')
})

t.test('nesting, literals and JSON.stringify data model', async (t) => {
  t.equal(canonicalJson({ b: [3, { z: null, y: true }], a: 'x' }), '{"a":"x","b":[3,{"y":true,"z":null}]}')
  t.equal(canonicalJson([]), '[]')
  t.equal(canonicalJson({}), '{}')
  t.equal(canonicalJson(null), 'null')
  t.equal(canonicalJson({ a: undefined, b: 1 }), '{"b":1}', 'undefined properties are omitted')
  t.equal(canonicalJson([undefined]), '[null]', 'undefined array elements become null')
  t.equal(canonicalJson({ when: new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)) }), '{"when":"2024-01-02T03:04:05.006Z"}')
  t.equal(canonicalJson({ toJSON: () => ({ b: 2, a: 1 }) }), '{"a":1,"b":2}')
  t.equal(canonicalJson([new Number(1), new String('s'), new Boolean(false)]), '[1,"s",false]')
  t.equal(canonicalJson(JSON.parse('{"__proto__": {"x": 1}, "a": 2}')), '{"__proto__":{"x":1},"a":2}')
  const shared = { v: 1 }
  t.equal(canonicalJson({ a: shared, b: shared }), '{"a":{"v":1},"b":{"v":1}}', 'repeated (non-circular) references are fine')
})

t.test('values JCS cannot represent throw TypeError', async (t) => {
  t.throws(() => canonicalJson(undefined), TypeError)
  t.throws(() => canonicalJson(NaN), TypeError)
  t.throws(() => canonicalJson({ a: [1, NaN] }), { name: 'TypeError', message: /\$\.a\[1\]/ })
  t.throws(() => canonicalJson(Infinity), TypeError)
  t.throws(() => canonicalJson(-Infinity), TypeError)
  t.throws(() => canonicalJson(10n), TypeError)
  t.throws(() => canonicalJson({ n: 10n }), TypeError)
  t.throws(() => canonicalJson(() => 1), TypeError)
  t.throws(() => canonicalJson({ f: () => 1 }), TypeError)
  t.throws(() => canonicalJson(Symbol('s')), TypeError)
  t.throws(() => canonicalJson(new Map([['a', 1]])), TypeError)
  t.throws(() => canonicalJson(new Set([1])), TypeError)
  const circular: Record<string, unknown> = {}
  circular.self = circular
  t.throws(() => canonicalJson(circular), TypeError)
})

t.test('sha256Hex', async (t) => {
  t.equal(sha256Hex(''), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
  t.equal(sha256Hex('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
  t.equal(sha256Hex(new Uint8Array([0x61, 0x62, 0x63])), sha256Hex('abc'))
  t.equal(sha256Hex('\u00e9'), sha256Hex(Buffer.from([0xc3, 0xa9])), 'strings are hashed as UTF-8')
  t.equal(sha256Hex(canonicalJson({ b: 1, a: 2 })), sha256Hex('{"a":2,"b":1}'))
})

// The serializer replaced the `canonicalize` package (RFC 8785's reference implementation for
// JavaScript); it must write byte-for-byte the same text, or every digest in an existing ledger
// would stop verifying.
t.test('writes what the canonicalize package writes, for random values and every platform fixture', async (t) => {
  let seed = 0x5eed
  const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T
  const alphabet = ['a', 'Z', '0', ' ', '"', '\\', '/', '\n', '\u0001', '\u001f', '\u007f', '\u00e9', '\u2028', '\u20ac', '\ufb33', '\ud83d\ude00']
  const text = () => Array.from({ length: Math.floor(random() * 8) }, () => pick(alphabet)).join('')
  const numbers = [0, -0, 1, -1, 0.1, 1e21, 1e-7, 5e-324, 2 ** 53, 333333333.3333333, 1.7976931348623157e308]
  const value = (depth: number): unknown => {
    const kind = Math.floor(random() * (depth > 3 ? 4 : 6))
    if (kind === 0) return pick([null, true, false])
    if (kind === 1) return random() < 0.5 ? pick(numbers) : (random() - 0.5) * 10 ** Math.floor(random() * 40 - 20)
    if (kind === 2 || kind === 3) return text()
    if (kind === 4) return Array.from({ length: Math.floor(random() * 5) }, () => value(depth + 1))
    return Object.fromEntries(Array.from({ length: Math.floor(random() * 6) }, () => [text(), value(depth + 1)]))
  }
  let mismatches = 0
  for (let i = 0; i < 2000; i++) {
    const v = value(0)
    if (canonicalJson(v) !== canonicalize(v)) mismatches += 1
  }
  t.equal(mismatches, 0, '2,000 random values')

  const files = (await readdir(FIXTURES_DIR)).filter((f) => f.endsWith('.json'))
  t.ok(files.length > 0, 'fixtures found')
  for (const file of files) {
    const parsed: unknown = JSON.parse(await readFile(join(FIXTURES_DIR, file), 'utf8'))
    t.equal(canonicalJson(parsed), canonicalize(parsed), file)
  }
})
