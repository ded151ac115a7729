import { FAILURE_WINDOW_SECONDS, lockSecondsAfter } from '../policy/lockout.js';
import type { KeyValueStore } from './kv/key-value-store.js';

/**
 * Failure counting and locks in the shared store, so every instance sees the same count and lock:
 * per account (wrong passwords, codes, recovery codes) and, with a larger scale, per IP address.
 */
// {subject} is a Redis Cluster hash tag: a subject's counter and lock live in one slot (cleared together).
const failuresKey = (kind: string, subject: string) => `failures:${kind}:{${subject}}`;
const lockedKey = (kind: string, subject: string) => `locked:${kind}:{${subject}}`;

export class Lockout {
  constructor(
    private readonly kv: KeyValueStore,
    private readonly kind: 'account' | 'ip',
    private readonly scale = 1,
  ) {}

  async registerFailure(subject: string): Promise<{ failures: number; lockedForSeconds: number }> {
    const failures = await this.kv.increment(failuresKey(this.kind, subject), FAILURE_WINDOW_SECONDS);
    const lockedForSeconds = lockSecondsAfter(failures, this.scale);
    if (lockedForSeconds > 0) await this.kv.set(lockedKey(this.kind, subject), String(Date.now()), lockedForSeconds);
    return { failures, lockedForSeconds };
  }

  /** Seconds until the subject may try again; 0 when not locked. */
  async lockedFor(subject: string): Promise<number> {
    return Math.max(0, await this.kv.ttl(lockedKey(this.kind, subject)));
  }

  /** After a successful sign-in, or an admin's unblock. */
  async clear(subject: string): Promise<void> {
    await this.kv.delete(failuresKey(this.kind, subject), lockedKey(this.kind, subject));
  }
}

/** The per-account lockout. */
export class AccountLockout extends Lockout {
  constructor(kv: KeyValueStore) {
    super(kv, 'account');
  }
}
