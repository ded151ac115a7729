import { FAILURE_WINDOW_SECONDS, lockSecondsAfter } from '../policy/lockout.js';
import type { KeyValueStore } from './kv/key-value-store.js';

/**
 * Per-account failure counting and locks in the shared store, so every instance sees the same
 * count and lock. Wrong codes count here (and, with the lockout issue, wrong passwords).
 */
export class AccountLockout {
  constructor(private readonly kv: KeyValueStore) {}

  async registerFailure(accountId: string): Promise<{ failures: number; lockedForSeconds: number }> {
    const failures = await this.kv.increment(`failures:${accountId}`, FAILURE_WINDOW_SECONDS);
    const lockedForSeconds = lockSecondsAfter(failures);
    if (lockedForSeconds > 0) await this.kv.set(`locked:${accountId}`, String(Date.now()), lockedForSeconds);
    return { failures, lockedForSeconds };
  }

  /** Seconds until the account may try again; 0 when not locked. */
  async lockedFor(accountId: string): Promise<number> {
    return Math.max(0, await this.kv.ttl(`locked:${accountId}`));
  }

  /** After a successful sign-in, or an admin's unblock. */
  async clear(accountId: string): Promise<void> {
    await this.kv.delete(`failures:${accountId}`, `locked:${accountId}`);
  }
}
