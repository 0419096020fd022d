import type pg from 'pg'
import { mapNodeSource, requiredNodes, type NodeId, type NodeSource, type StoredNode } from './merkle.js'

export type Queryable = Pick<pg.ClientBase, 'query'>

/** Perfect-subtree hashes by position: level 0 from ledger_leaf, higher levels from ledger_tree_node. */
export async function fetchNodes(db: Queryable, ids: readonly NodeId[]): Promise<StoredNode[]> {
  if (ids.length === 0) return []
  const leaves = ids.filter((n) => n.level === 0).map((n) => n.index)
  const inner = ids.filter((n) => n.level > 0)
  const { rows } = await db.query<{ level: number; index: string; hash: Buffer }>(
    `SELECT n.level::int AS level, n.index::text AS index, n.hash
       FROM ledger_tree_node n
       JOIN unnest($1::smallint[], $2::bigint[]) AS want(level, index) ON n.level = want.level AND n.index = want.index
     UNION ALL
     SELECT 0, l.leaf_index::text, l.leaf_hash FROM ledger_leaf l WHERE l.leaf_index = ANY($3::bigint[])`,
    [inner.map((n) => n.level), inner.map((n) => n.index), leaves],
  )
  return rows.map((r) => ({ level: r.level, index: Number(r.index), hash: r.hash }))
}

/**
 * Runs a pure tree computation against the stored nodes: a first dry run lists the nodes it needs,
 * one query fetches them, and the second run computes (O(log n) lookups for a proof).
 */
export async function withStoredNodes<T>(db: Queryable, compute: (node: NodeSource) => T): Promise<T> {
  const nodes = await fetchNodes(db, requiredNodes(compute))
  return compute(mapNodeSource(nodes))
}
