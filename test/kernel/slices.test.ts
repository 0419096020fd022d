import t from 'tap'
import { slices } from '../../src/kernel/slices.js'

// A large delivery's fingerprints and evaluation run in slices (src/moderation/automatic.ts,
// src/webhooks/ingest.ts) so other authors' requests are handled in between.

t.test('within a slice, next() does not hand the event loop back', async (t) => {
  const next = slices(60_000)
  let ran = false
  setImmediate(() => (ran = true))
  await next()
  t.notOk(ran, 'work waiting for the event loop still waits')
  await new Promise((resolve) => setImmediate(resolve))
  t.ok(ran)
})

t.test('once a slice is used up, next() lets waiting work run first, then starts a new slice', async (t) => {
  const next = slices(0)
  const order: string[] = []
  setImmediate(() => order.push('waiting request'))
  await next()
  order.push('next item')
  t.same(order, ['waiting request', 'next item'])

  const slow = slices(20)
  const start = performance.now()
  while (performance.now() - start < 25) {
    // a long synchronous item
  }
  let ran = false
  setImmediate(() => (ran = true))
  await slow()
  t.ok(ran, 'after more than the slice of synchronous work, the waiting work ran')
})
