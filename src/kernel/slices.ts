/** 5 ms: a small delivery's whole Node work is about 1 ms (docs/performance.md). */
export const SLICE_MS = 5

/**
 * Cuts long synchronous work into slices: `await next()` between items hands the event loop back
 * once `sliceMs` of work ran since the last time. Requests that arrived meanwhile (other authors'
 * deliveries, their database replies) are handled in between, not after the whole of one large
 * delivery's fingerprints and evaluation. setImmediate runs after the I/O poll, so they do run.
 */
export function slices(sliceMs = SLICE_MS): () => Promise<void> {
  let since = performance.now()
  return async () => {
    if (performance.now() - since < sliceMs) return
    await new Promise<void>((resolve) => setImmediate(resolve))
    since = performance.now()
  }
}
