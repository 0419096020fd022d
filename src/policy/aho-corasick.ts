// Aho-Corasick automaton over UTF-16 code units: finds every occurrence of every pattern in one
// left-to-right pass (time linear in the text plus the number of matches reported).
//
// The patterns are already-normalized strings (see normalize.ts: normalizeTerm); the text is a
// normalized code-unit array. Code units that occur in no pattern map to symbol 0, which leads
// back to the root from every state. With a small alphabet the transitions are a dense table
// (one typed-array read per text unit); when states x alphabet would exceed `denseLimit` entries
// (a huge multi-script term list) the automaton keeps per-state maps and failure links instead
// (still linear: each failure step is paid for by an earlier forward step).

export interface AhoCorasickOptions {
  /** Maximum number of entries of the dense transition table (default 4M: 16 MB). */
  denseLimit?: number
}

export interface AhoMatch {
  /** Index of the pattern in the constructor's array. */
  pattern: number
  start: number
  end: number
}

export class AhoCorasick {
  readonly patternCount: number
  /** Length (UTF-16 units) of each pattern. */
  readonly patternLength: Int32Array
  readonly maxPatternLength: number
  readonly stateCount: number
  readonly dense: boolean

  readonly #alpha = new Uint16Array(65536)
  readonly #width: number
  readonly #delta: Int32Array | null
  readonly #children: Array<Map<number, number>> | null
  readonly #fail: Int32Array
  /** 1 when the state or a state on its failure chain ends a pattern. */
  readonly #hasOutput: Uint8Array
  /** First pattern ending exactly at the state, -1 if none. */
  readonly #firstOut: Int32Array
  /** Next pattern ending at the same state. */
  readonly #nextOut: Int32Array
  /** Nearest proper suffix state (failure chain) that ends a pattern, -1 if none. */
  readonly #outLink: Int32Array

  constructor(patterns: readonly string[], options: AhoCorasickOptions = {}) {
    const denseLimit = options.denseLimit ?? 4_000_000
    this.patternCount = patterns.length
    this.patternLength = new Int32Array(patterns.length)

    // Alphabet
    let symbols = 0
    for (const p of patterns) {
      for (let i = 0; i < p.length; i++) {
        const c = p.charCodeAt(i)
        if (this.#alpha[c] === 0) this.#alpha[c] = ++symbols
      }
    }
    this.#width = symbols + 1

    // Trie
    const trie: Array<Map<number, number>> = [new Map()]
    const endsHere: number[][] = [[]]
    let maxLen = 0
    patterns.forEach((p, index) => {
      if (p.length === 0) throw new Error(`pattern ${index} is empty`)
      this.patternLength[index] = p.length
      if (p.length > maxLen) maxLen = p.length
      let s = 0
      for (let i = 0; i < p.length; i++) {
        const sym = this.#alpha[p.charCodeAt(i)]!
        const node = trie[s]!
        let next = node.get(sym)
        if (next === undefined) {
          next = trie.length
          trie.push(new Map())
          endsHere.push([])
          node.set(sym, next)
        }
        s = next
      }
      endsHere[s]!.push(index)
    })
    this.maxPatternLength = maxLen
    const states = trie.length
    this.stateCount = states

    this.#firstOut = new Int32Array(states).fill(-1)
    this.#nextOut = new Int32Array(patterns.length).fill(-1)
    for (let s = 0; s < states; s++) {
      const list = endsHere[s]!
      for (let k = list.length - 1; k >= 0; k--) {
        const p = list[k]!
        this.#nextOut[p] = this.#firstOut[s]!
        this.#firstOut[s] = p
      }
    }

    // Failure links in breadth-first order
    const fail = new Int32Array(states)
    const outLink = new Int32Array(states).fill(-1)
    const order: number[] = []
    for (const child of trie[0]!.values()) {
      fail[child] = 0
      order.push(child)
    }
    for (let q = 0; q < order.length; q++) {
      const s = order[q]!
      for (const [sym, child] of trie[s]!) {
        let f = fail[s]!
        let target = trie[f]!.get(sym)
        while (target === undefined && f !== 0) {
          f = fail[f]!
          target = trie[f]!.get(sym)
        }
        fail[child] = target !== undefined && target !== child ? target : 0
        const fc = fail[child]!
        outLink[child] = this.#firstOut[fc]! >= 0 ? fc : outLink[fc]!
        order.push(child)
      }
    }
    this.#fail = fail
    this.#outLink = outLink
    this.#hasOutput = new Uint8Array(states)
    for (let s = 0; s < states; s++) this.#hasOutput[s] = this.#firstOut[s]! >= 0 || outLink[s]! >= 0 ? 1 : 0

    // Transitions
    const width = this.#width
    if (states * width <= denseLimit) {
      const delta = new Int32Array(states * width)
      for (const [sym, child] of trie[0]!) delta[sym] = child
      for (const s of order) {
        const row = s * width
        const frow = fail[s]! * width
        const kids = trie[s]!
        for (let sym = 1; sym < width; sym++) {
          const child = kids.get(sym)
          delta[row + sym] = child !== undefined ? child : delta[frow + sym]!
        }
      }
      this.#delta = delta
      this.#children = null
      this.dense = true
    } else {
      this.#delta = null
      this.#children = trie
      this.dense = false
    }
  }

  /**
   * Scans `codes[from..to)` and calls `onMatch(pattern, end)` for every occurrence (end is
   * exclusive; the start is `end - patternLength[pattern]`), in order of end offset.
   */
  scan(codes: Uint16Array, from: number, to: number, onMatch: (pattern: number, end: number) => void): void {
    const alpha = this.#alpha
    const hasOutput = this.#hasOutput
    let s = 0
    if (this.#delta !== null) {
      const delta = this.#delta
      const width = this.#width
      for (let i = from; i < to; i++) {
        s = delta[s * width + alpha[codes[i]!]!]!
        if (hasOutput[s] === 1) this.#report(s, i + 1, onMatch)
      }
      return
    }
    const children = this.#children!
    const fail = this.#fail
    for (let i = from; i < to; i++) {
      const sym = alpha[codes[i]!]!
      if (sym === 0) {
        s = 0
        continue
      }
      let next = children[s]!.get(sym)
      while (next === undefined && s !== 0) {
        s = fail[s]!
        next = children[s]!.get(sym)
      }
      s = next ?? 0
      if (hasOutput[s] === 1) this.#report(s, i + 1, onMatch)
    }
  }

  #report(state: number, end: number, onMatch: (pattern: number, end: number) => void): void {
    const firstOut = this.#firstOut
    const nextOut = this.#nextOut
    const outLink = this.#outLink
    for (let o = firstOut[state]! >= 0 ? state : outLink[state]!; o !== -1; o = outLink[o]!) {
      for (let p = firstOut[o]!; p !== -1; p = nextOut[p]!) onMatch(p, end)
    }
  }

  /** Every occurrence in a plain string (convenience for tests and tools). */
  findAll(text: string): AhoMatch[] {
    const codes = new Uint16Array(text.length)
    for (let i = 0; i < text.length; i++) codes[i] = text.charCodeAt(i)
    const out: AhoMatch[] = []
    this.scan(codes, 0, codes.length, (pattern, end) => out.push({ pattern, start: end - this.patternLength[pattern]!, end }))
    return out
  }
}
