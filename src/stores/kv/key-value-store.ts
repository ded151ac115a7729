/**
 * The narrow interface over the shared key-value store (Redis in production, in-process when
 * REDIS_URL is unset). Everything short-lived lives here: oidc-provider's models, remembrances,
 * counters, single-use tokens. Every write takes a TTL in seconds; nothing lives forever.
 * Both implementations pass the same contract test (test/integration/key-value-store.test.ts).
 */
export type MarkOutcome = 'marked' | 'already' | 'missing';

export interface KeyValueStore {
  get(key: string): Promise<string | null>;
  getMany(keys: string[]): Promise<(string | null)[]>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /**
   * Marks `key` as used, once, atomically: sets `mark` (only if absent) for as long as `key` has
   * left to live. 'marked' for the one caller that set it, 'already' when it was set before,
   * 'missing' when `key` does not exist. One round trip; `key` and `mark` must share a Redis
   * Cluster slot (a hash tag).
   */
  markOnce(key: string, mark: string, value: string): Promise<MarkOutcome>;
  /** Reads and deletes in one step: a single-use value is returned to exactly one caller. */
  take(key: string): Promise<string | null>;
  delete(...keys: string[]): Promise<number>;
  /** Remaining lifetime in seconds; -2 when the key does not exist. */
  ttl(key: string): Promise<number>;
  /** Adds one; the TTL is set when the counter is created and never extended. */
  increment(key: string, ttlSeconds: number): Promise<number>;
  /** Set membership, for indexes (grant → tokens, account → sessions). The set's TTL only grows. */
  addToSet(key: string, member: string, ttlSeconds: number): Promise<void>;
  removeFromSet(key: string, member: string): Promise<void>;
  members(key: string): Promise<string[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
