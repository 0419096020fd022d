// Key rotation, endorsed (docs/ledger.md, "Key rotation"): the first checkpoint under a new signing
// key also carries the previous key's signature. A verifier that trusts one key of the chain
// follows the endorsements to the others, both ways: forward (an old key vouched for its successor)
// and backward (the key it trusts co-signed with its predecessor). A key that took over without
// its predecessor's signature breaks the chain, and what it (or, seen from the other side, its
// predecessors) signed is reported.

export interface KeyChain {
  /** The signing keys in the order they took over (a key may appear again after a break). */
  epochs: string[]
  /** endorsed[i]: epochs[i]'s first checkpoint carries epochs[i - 1]'s signature (false for i = 0). */
  endorsed: boolean[]
  /** trusted[i]: epochs[i] is a trusted key, or linked to one by endorsements. */
  trusted: boolean[]
  /** For each step, the index of the epoch whose key signed it; -1 when no known key signed it. */
  stepEpoch: number[]
  /** For each step: null when its signer is trusted, else why not. */
  problems: Array<string | null>
}

/**
 * Follows the chain of signing keys through checkpoints in log order (tree size, then time).
 * `steps[i]` lists the key ids whose signatures on checkpoint i verify, the log's own signer first
 * (the first signature line); `anchors` are the key ids the verifier trusts.
 */
export function followKeyChain(steps: ReadonlyArray<readonly string[]>, anchors: ReadonlySet<string>): KeyChain {
  const epochs: string[] = []
  const endorsed: boolean[] = []
  const stepEpoch: number[] = []
  for (const signers of steps) {
    if (signers.length === 0) {
      stepEpoch.push(-1)
      continue
    }
    const current = epochs[epochs.length - 1]
    if (current !== undefined && signers.includes(current)) {
      // The current key signed it. One other key, never a signer before: the current key endorses it.
      const others = signers.filter((k) => k !== current && !epochs.includes(k))
      if (others.length === 1) {
        epochs.push(others[0]!)
        endorsed.push(true)
      }
    } else {
      // The first checkpoint, or a key the current one did not co-sign with: a break in the chain.
      epochs.push(signers[0]!)
      endorsed.push(false)
    }
    stepEpoch.push(epochs.length - 1)
  }
  const trusted = epochs.map((k) => anchors.has(k))
  for (let i = 1; i < epochs.length; i++) if (endorsed[i] && trusted[i - 1]) trusted[i] = true
  for (let i = epochs.length - 2; i >= 0; i--) if (endorsed[i + 1] && trusted[i + 1]) trusted[i] = true

  const problems = stepEpoch.map((e) => {
    if (e < 0 || trusted[e]) return null
    const key = epochs[e]!
    // Where the chain breaks between this key and the trusted ones.
    const anchorAfter = trusted.findIndex((t, i) => t && i > e)
    const breakAt = anchorAfter >= 0 ? lastBreak(endorsed, e + 1, anchorAfter) : firstBreakAtOrBefore(endorsed, e)
    const why =
      breakAt > 0
        ? `key ${epochs[breakAt]} took over from key ${epochs[breakAt - 1]} without its endorsement (its first checkpoint carries no signature by ${epochs[breakAt - 1]})`
        : 'no endorsement links it to a trusted key'
    return `signed by key ${key}, which is not linked to a trusted key (${[...anchors].join(', ') || 'none'}): ${why}`
  })
  return { epochs, endorsed, trusted, stepEpoch, problems }
}

function lastBreak(endorsed: readonly boolean[], from: number, to: number): number {
  for (let i = to; i >= from; i--) if (!endorsed[i]) return i
  return -1
}

function firstBreakAtOrBefore(endorsed: readonly boolean[], at: number): number {
  for (let i = at; i > 0; i--) if (!endorsed[i]) return i
  return -1
}
