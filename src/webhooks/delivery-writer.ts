import type { DeliveryToStore, IngestResult } from './ingest.js'

export interface DeliveryWriterOptions {
  /** Groups written at once, each in its own transaction on its own connection. */
  writers: number
  /** A group takes queued deliveries up to this many comment events (always at least one delivery). */
  maxGroupEvents: number
  /**
   * A delivery whose body is larger than this is large (default LARGE_DELIVERY_BYTES). With two
   * writers or more, groups holding a large delivery occupy at most writers - 1 of them at once, so
   * one sender's large deliveries never hold every writer while small ones wait.
   */
  largeBodyBytes?: number
}

/** 64 KiB: a 50-comment Meta delivery of ordinary comments is about 15 KiB; 50 comments of 8,000 characters about 400 KiB. */
export const LARGE_DELIVERY_BYTES = 65_536

/** Stores a group of deliveries in one transaction and returns once it committed: a result per delivery, in order. */
export type WriteGroup = (group: readonly DeliveryToStore[]) => Promise<IngestResult[]>

export interface DeliveryWriterStats {
  /** Transactions that committed a group. */
  groups: number
  /** Deliveries committed in them. */
  deliveries: number
  largestGroup: number
  /** Groups that failed and whose deliveries were then written one by one. */
  groupsRetriedAlone: number
  /** Deliveries waiting for a writer now. */
  queued: number
}

interface Waiting {
  item: DeliveryToStore
  events: number
  large: boolean
  resolve: (result: IngestResult) => void
  reject: (error: unknown) => void
}

/**
 * Group commit for webhook deliveries. Each delivery must be committed before its 2xx, and one
 * transaction per delivery spends most of its time on what every transaction costs (a plan, a
 * commit, round trips; docs/performance.md). So deliveries that arrive while `writers` groups are
 * being written wait, and the next free writer stores all of them (up to `maxGroupEvents`) in one
 * transaction. Nothing waits on a timer: a delivery that finds a free writer is written at once.
 *
 * Large deliveries (largeBodyBytes) cost a writer much longer than small ones (their texts are
 * evaluated and stored), so small and large deliveries never share a group, and groups of large
 * ones get at most writers - 1 writers at once: when that many are being written, the next free
 * writer takes the small deliveries that wait (in arrival order, passing the large ones), and the
 * large ones wait for their lane.
 *
 * A delivery's promise settles only after its own transaction committed or failed. When a group
 * fails, each of its deliveries is written again alone, so one delivery the database refuses never
 * fails the others; only when `failsEveryone(error)` (the database is unavailable) do they all get
 * the group's error without another attempt.
 */
export class DeliveryWriter {
  private readonly queue: Waiting[] = []
  private running = 0
  /** Groups being written that hold a large delivery. */
  private runningLarge = 0
  private idleWaiters: Array<() => void> = []
  private readonly counts = { groups: 0, deliveries: 0, largestGroup: 0, groupsRetriedAlone: 0 }

  constructor(
    private readonly write: WriteGroup,
    private readonly options: DeliveryWriterOptions,
    private readonly failsEveryone: (error: unknown) => boolean,
  ) {
    if (!(options.writers >= 1 && options.maxGroupEvents >= 1)) throw new Error('DeliveryWriter: writers and maxGroupEvents must be at least 1')
  }

  /** Resolves with the delivery's result once it is committed; rejects if it was not stored. */
  submit(item: DeliveryToStore): Promise<IngestResult> {
    return new Promise((resolve, reject) => {
      const large = item.delivery.body.length > (this.options.largeBodyBytes ?? LARGE_DELIVERY_BYTES)
      this.queue.push({ item, events: item.normalized.events.length, large, resolve, reject })
      this.startWriters()
    })
  }

  stats(): DeliveryWriterStats {
    return { ...this.counts, queued: this.queue.length }
  }

  /** Resolves when nothing is queued or being written (for shutdown). */
  idle(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  private startWriters() {
    while (this.running < this.options.writers && this.queue.length > 0) {
      const group = this.takeGroup()
      if (group.length === 0) return // only large deliveries wait, and their lane is full
      const large = group.some((w) => w.large)
      this.running++
      if (large) this.runningLarge++
      void this.writeGroup(group).finally(() => {
        this.running--
        if (large) this.runningLarge--
        this.startWriters()
        if (this.running === 0 && this.queue.length === 0) {
          for (const resolve of this.idleWaiters.splice(0)) resolve()
        }
      })
    }
  }

  /**
   * The oldest delivery and those of its size class that wait (large or small, in arrival order,
   * up to maxGroupEvents events): a group never mixes them, so a small delivery is never held by a
   * large one's transaction. When the large lane is full (writers - 1 groups with a large delivery,
   * with two writers or more), the oldest small ones only (possibly none).
   */
  private takeGroup(): Waiting[] {
    const laneFull = this.options.writers >= 2 && this.runningLarge >= this.options.writers - 1
    const first = laneFull ? this.queue.find((w) => !w.large) : this.queue[0]
    if (!first) return []
    const taken: Waiting[] = []
    let events = 0
    for (const w of this.queue) {
      if (w.large !== first.large) continue
      if (taken.length > 0 && events + w.events > this.options.maxGroupEvents) break
      taken.push(w)
      events += w.events
    }
    const set = new Set(taken)
    for (let i = this.queue.length - 1; i >= 0; i--) if (set.has(this.queue[i]!)) this.queue.splice(i, 1)
    return taken
  }

  private async writeGroup(group: Waiting[]): Promise<void> {
    try {
      const results = await this.write(group.map((w) => w.item))
      this.committed(group.length)
      group.forEach((w, i) => w.resolve(results[i]!))
      return
    } catch (error) {
      if (group.length === 1 || this.failsEveryone(error)) {
        for (const w of group) w.reject(error)
        return
      }
    }
    this.counts.groupsRetriedAlone++
    for (const w of group) {
      try {
        const [result] = await this.write([w.item])
        this.committed(1)
        w.resolve(result!)
      } catch (error) {
        w.reject(error)
      }
    }
  }

  private committed(deliveries: number) {
    this.counts.groups++
    this.counts.deliveries += deliveries
    this.counts.largestGroup = Math.max(this.counts.largestGroup, deliveries)
  }
}
