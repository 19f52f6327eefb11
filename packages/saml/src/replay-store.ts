// saml-profiles 4.1.4.5: a bearer assertion is used once. The store decides "first time seen";
// the auth service backs it with Redis `SET NX PX` so every replica shares the answer.

export interface ReplayStore {
  /** True when first seen (and now remembered until expiresAt); false when seen before. */
  remember(assertionId: string, expiresAt: Date): Promise<boolean>
}

/** For one process (tests, development): entries are dropped once past their expiry. */
export class MemoryReplayStore implements ReplayStore {
  readonly #expiries = new Map<string, number>()
  readonly #now: () => number
  #nextPruneAt = 0

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now
  }

  get size(): number {
    return this.#expiries.size
  }

  async remember(assertionId: string, expiresAt: Date): Promise<boolean> {
    const now = this.#now()
    this.#prune(now)
    const knownUntil = this.#expiries.get(assertionId)
    if (knownUntil !== undefined && knownUntil > now) return false
    this.#expiries.set(assertionId, expiresAt.getTime())
    return true
  }

  #prune(now: number): void {
    if (now < this.#nextPruneAt) return
    this.#nextPruneAt = now + 1000
    for (const [assertionId, expiresAt] of this.#expiries) {
      if (expiresAt <= now) this.#expiries.delete(assertionId)
    }
  }
}
