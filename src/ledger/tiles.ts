// The tree as C2SP tlog-tiles (https://c2sp.org/tlog-tiles), so the transparency ecosystem's tools
// (Go's golang.org/x/mod/sumdb/tlog, transparency-dev's clients) audit the whole log without any
// Townsquare code. Tiles have height 8: the tile at level L, index N holds the hashes of the
// perfect subtrees of height 8L with indexes [256N, 256N + W), 32 bytes each, concatenated; a
// full tile has W = 256. They are read from the stored leaf hashes (level 0) and perfect-subtree
// nodes (ledger_tree_node level 8L): nothing is recomputed.
//
// Entry bundles (tile/entries/...) are not served: an entry's leaf preimage is its envelope, which
// holds a hash of its content (docs/ledger.md, "What is public").
import { ProblemError } from '../plugins/errors.js'
import type { Queryable } from './tree-store.js'

export const TILE_HEIGHT = 8
export const TILE_WIDTH = 1 << TILE_HEIGHT
const HASH_SIZE = 32
/** Levels of 8 tree levels each: 2^63 leaves at most. */
const MAX_LEVEL = 7

export interface TileRef {
  level: number
  index: bigint
  /** null: the full tile; else the partial width 1..255. */
  width: number | null
}

export class TilePathError extends ProblemError {
  constructor(detail: string) {
    super(400, 'validation', 'Invalid request', detail, { errors: [{ path: 'path', message: detail }] })
  }
}

export class TileNotFoundError extends ProblemError {
  constructor(detail: string) {
    super(404, 'not-found', 'Not Found', detail)
  }
}

const LEVEL = /^(?:0|[1-9][0-9]?)$/
const WIDTH = /^(?:[1-9][0-9]{0,2})$/
const LAST_GROUP = /^[0-9]{3}$/
const X_GROUP = /^x[0-9]{3}$/

/**
 * Parses `<L>/<N>[.p/<W>]` (what follows `tile/`): N as 3-digit groups, every group but the last
 * prefixed with `x` (tlog-tiles, "Merkle Tree"). Malformed paths are 400; well-formed ones that
 * can name no tile of this log (entry bundles, a level above 7, a non-canonical N) are 404.
 */
export function parseTilePath(path: string): TileRef {
  if (path.length > 128) throw new TilePathError('tile path too long')
  const parts = path.split('/')
  const levelText = parts[0] ?? ''
  if (levelText === 'entries') throw new TileNotFoundError('Entry bundles are not served: an entry envelope holds a hash of its content (docs/ledger.md, "What is public").')
  if (!LEVEL.test(levelText)) throw new TilePathError(`tile level must be a decimal number, got ${JSON.stringify(levelText)}`)
  const level = Number(levelText)
  if (level > 63) throw new TilePathError(`tile level must be 0 to 63, got ${level}`)
  let groups = parts.slice(1)
  let width: number | null = null
  const last = groups[groups.length - 1]
  const beforeLast = groups[groups.length - 2]
  if (groups.length >= 2 && beforeLast !== undefined && beforeLast.endsWith('.p') && last !== undefined) {
    if (!WIDTH.test(last) || Number(last) >= TILE_WIDTH) throw new TilePathError(`partial tile width must be 1 to ${TILE_WIDTH - 1}, got ${JSON.stringify(last)}`)
    width = Number(last)
    groups = [...groups.slice(0, -2), beforeLast.slice(0, -2)]
  }
  if (groups.length === 0 || groups.some((g) => g === '')) throw new TilePathError('tile path must be <L>/<N>[.p/<W>]')
  const lastGroup = groups[groups.length - 1]!
  if (!LAST_GROUP.test(lastGroup) || !groups.slice(0, -1).every((g) => X_GROUP.test(g))) {
    throw new TilePathError('tile index must be 3-digit groups, all but the last prefixed with x (e.g. x001/x234/067)')
  }
  if (groups.length > 1 && groups[0] === 'x000') throw new TileNotFoundError('tile index is not in canonical form (leading x000 group)')
  const index = BigInt(groups.map((g) => g.replace('x', '')).join(''))
  if (level > MAX_LEVEL) throw new TileNotFoundError(`no tile at level ${level}: the tree has at most ${MAX_LEVEL + 1} tile levels`)
  return { level, index, width }
}

/** The path of a tile, for links and tests: `tile/<L>/<N>[.p/<W>]`. */
export function tilePath(ref: TileRef): string {
  let digits = ref.index.toString().padStart(3, '0')
  while (digits.length % 3 !== 0) digits = '0' + digits
  const groups = digits.match(/.{3}/g)!
  const n = groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/')
  return `tile/${ref.level}/${n}${ref.width === null ? '' : `.p/${ref.width}`}`
}

/**
 * The tile's bytes, for the tree of `treeSize` leaves (the latest checkpoint's): 404 when the tree
 * does not hold it yet (a full tile not yet complete, or a partial wider than what is there).
 */
export async function readTile(db: Queryable, ref: TileRef, treeSize: number): Promise<Buffer> {
  const shift = BigInt(TILE_HEIGHT * ref.level)
  // Perfect subtrees of height 8L in the tree.
  const available = BigInt(treeSize) >> shift
  const start = ref.index * BigInt(TILE_WIDTH)
  const width = BigInt(ref.width ?? TILE_WIDTH)
  if (start + width > available) {
    throw new TileNotFoundError(
      ref.width === null
        ? `Tile ${tilePath(ref)} is not complete in the tree of size ${treeSize} (the latest checkpoint's).`
        : `Tile ${tilePath(ref)} is wider than the tree of size ${treeSize} holds (the latest checkpoint's).`,
    )
  }
  const from = start.toString()
  const to = (start + width).toString()
  const { rows } =
    ref.level === 0
      ? await db.query<{ hash: Buffer }>('SELECT leaf_hash AS hash FROM ledger_leaf WHERE leaf_index >= $1::bigint AND leaf_index < $2::bigint ORDER BY leaf_index', [from, to])
      : await db.query<{ hash: Buffer }>('SELECT hash FROM ledger_tree_node WHERE level = $3 AND index >= $1::bigint AND index < $2::bigint ORDER BY index', [from, to, TILE_HEIGHT * ref.level])
  if (BigInt(rows.length) !== width || rows.some((r) => r.hash.length !== HASH_SIZE)) {
    throw new Error(`tile ${tilePath(ref)}: ${rows.length} stored hashes of ${width} expected (run POST /v1/ledger/verify)`)
  }
  return Buffer.concat(rows.map((r) => r.hash))
}
