import type { KeyValueStore, MarkOutcome } from './key-value-store.js';

interface Entry {
  value: string | Set<string>;
  expiresAt: number;
}

/**
 * In-process store for the embedded mode (one process, nothing to install). Same semantics as
 * the Redis store, including TTLs; expired entries are dropped on read and by a periodic sweep.
 */
export class MemoryStore implements KeyValueStore {
  private readonly entries = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly now: () => number = Date.now) {
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Like Redis, using a key as the other type is an error, not a silent null. */
  private string(key: string): string | null {
    const entry = this.live(key);
    if (entry && typeof entry.value !== 'string') throw new Error(`WRONGTYPE ${key} holds a set`);
    return entry ? (entry.value as string) : null;
  }

  private set_(key: string): Set<string> | undefined {
    const entry = this.live(key);
    if (entry && !(entry.value instanceof Set)) throw new Error(`WRONGTYPE ${key} holds a string`);
    return entry?.value as Set<string> | undefined;
  }

  private expiry(ttlSeconds: number): number {
    return this.now() + Math.max(1, ttlSeconds) * 1000;
  }

  async get(key: string) {
    return this.string(key);
  }

  async getMany(keys: string[]) {
    return keys.map((k) => this.string(k));
  }

  async set(key: string, value: string, ttlSeconds: number) {
    this.entries.set(key, { value, expiresAt: this.expiry(ttlSeconds) });
  }

  async markOnce(key: string, mark: string, value: string): Promise<MarkOutcome> {
    const entry = this.live(key);
    if (!entry) return 'missing';
    if (this.live(mark)) return 'already';
    this.entries.set(mark, { value, expiresAt: Math.max(entry.expiresAt, this.now() + 1000) });
    return 'marked';
  }

  async take(key: string) {
    const value = this.string(key);
    this.entries.delete(key);
    return value;
  }

  async delete(...keys: string[]) {
    let removed = 0;
    for (const key of keys) if (this.live(key) && this.entries.delete(key)) removed += 1;
    return removed;
  }

  async ttl(key: string) {
    const entry = this.live(key);
    return entry ? Math.ceil((entry.expiresAt - this.now()) / 1000) : -2;
  }

  async increment(key: string, ttlSeconds: number) {
    const current = this.string(key);
    const entry = this.live(key);
    const next = (current === null ? 0 : Number(current)) + 1;
    this.entries.set(key, { value: String(next), expiresAt: entry?.expiresAt ?? this.expiry(ttlSeconds) });
    return next;
  }

  async addToSet(key: string, member: string, ttlSeconds: number) {
    const existing = this.set_(key);
    const entry = this.live(key);
    const set = existing ?? new Set<string>();
    set.add(member);
    this.entries.set(key, { value: set, expiresAt: Math.max(entry?.expiresAt ?? 0, this.expiry(ttlSeconds)) });
  }

  async removeFromSet(key: string, member: string) {
    const set = this.set_(key);
    set?.delete(member);
    if (set?.size === 0) this.entries.delete(key); // Redis removes an empty set
  }

  async members(key: string) {
    return [...(this.set_(key) ?? [])];
  }

  async ping() {}

  async close() {
    clearInterval(this.sweeper);
  }

  private sweep() {
    for (const key of this.entries.keys()) this.live(key);
  }
}
