/**
 * A map with a capacity, for what a process keeps in memory about things outsiders can name
 * (connections, sessions, addresses): past the capacity the oldest entry goes, so hostile traffic
 * can cost an entry but never unbounded memory. Entries may also expire.
 */
export class BoundedCache<K, V> {
  readonly #entries = new Map<K, { value: V; expiresAt: number }>()
  readonly #capacity: number
  readonly #ttlMs: number
  readonly #now: () => number

  /** `ttlMs`: how long an entry lives unless `set` says otherwise (default: until evicted). */
  constructor(options: { capacity: number; ttlMs?: number; now?: () => number }) {
    if (!(options.capacity >= 1)) throw new RangeError('A cache needs a capacity of at least 1.')
    this.#capacity = options.capacity
    this.#ttlMs = options.ttlMs ?? Number.POSITIVE_INFINITY
    this.#now = options.now ?? Date.now
  }

  get size(): number {
    return this.#entries.size
  }

  /** The live entry for `key`; an expired one is dropped and reads as absent. */
  get(key: K): V | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt > this.#now()) return entry.value
    this.#entries.delete(key)
    return undefined
  }

  set(key: K, value: V, ttlMs = this.#ttlMs): void {
    // Re-inserting moves the key to the young end, so eviction takes the least recently set.
    this.#entries.delete(key)
    if (this.#entries.size >= this.#capacity) this.#evictOne()
    this.#entries.set(key, { value, expiresAt: this.#now() + ttlMs })
  }

  delete(key: K): void {
    this.#entries.delete(key)
  }

  /** Drops every entry whose value `matches` (a walk over all of them: for rare events). */
  deleteWhere(matches: (value: V) => boolean): void {
    for (const [key, entry] of this.#entries) if (matches(entry.value)) this.#entries.delete(key)
  }

  clear(): void {
    this.#entries.clear()
  }

  // Map iterates in insertion order: the first entry is the oldest.
  #evictOne(): void {
    const oldest = this.#entries.keys().next()
    if (!oldest.done) this.#entries.delete(oldest.value)
  }
}
