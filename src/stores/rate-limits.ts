import type { KeyValueStore } from './kv/key-value-store.js';

/**
 * Fixed-window counters in the shared store (every instance counts together; the same code serves
 * Redis and the embedded store, which a Redis-only rate-limit library would not).
 */
export class RateLimits {
  constructor(private readonly kv: KeyValueStore) {}

  /** Counts one hit; false once more than `limit` hits fell in the window. */
  async allow(name: string, limit: number, windowSeconds: number): Promise<boolean> {
    return (await this.kv.increment(`rate:${name}`, windowSeconds)) <= limit;
  }
}
