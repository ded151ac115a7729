import { FAILURE_WINDOW_SECONDS, lockSecondsAfter } from '../policy/lockout.js';
import type { KeyValueStore } from './kv/key-value-store.js';

/**
 * Failure counting and locks in the shared store, so every instance sees the same count and lock:
 * per account (wrong passwords, codes, recovery codes) and, with a larger scale, per IP address.
 */
export class Lockout {
  constructor(
    private readonly kv: KeyValueStore,
    private readonly kind: 'account' | 'ip',
    private readonly scale = 1,
  ) {}

  async registerFailure(subject: string): Promise<{ failures: number; lockedForSeconds: number }> {
    const failures = await this.kv.increment(`failures:${this.kind}:${subject}`, FAILURE_WINDOW_SECONDS);
    const lockedForSeconds = lockSecondsAfter(failures, this.scale);
    if (lockedForSeconds > 0) await this.kv.set(`locked:${this.kind}:${subject}`, String(Date.now()), lockedForSeconds);
    return { failures, lockedForSeconds };
  }

  /** Seconds until the subject may try again; 0 when not locked. */
  async lockedFor(subject: string): Promise<number> {
    return Math.max(0, await this.kv.ttl(`locked:${this.kind}:${subject}`));
  }

  /** After a successful sign-in, or an admin's unblock. */
  async clear(subject: string): Promise<void> {
    await this.kv.delete(`failures:${this.kind}:${subject}`, `locked:${this.kind}:${subject}`);
  }
}

/** The per-account lockout. */
export class AccountLockout extends Lockout {
  constructor(kv: KeyValueStore) {
    super(kv, 'account');
  }
}
