import type { KeyValueStore } from './kv/key-value-store.js';

/** docs/rules.md, rule 6: the password unlock of the account page lasts 10 minutes. */
export const UNLOCK_SECONDS = 10 * 60;
const ENROLLMENT_SECONDS = 15 * 60;

/**
 * The account page's short-lived state, per Sleutel session (never per account alone): the
 * password unlock, and an enrollment awaiting its confirming code.
 */
export class AccountPageState {
  constructor(private readonly kv: KeyValueStore) {}

  async unlock(sessionUid: string, accountId: string): Promise<void> {
    await this.kv.set(`unlock:${sessionUid}`, accountId, UNLOCK_SECONDS);
  }

  async isUnlocked(sessionUid: string, accountId: string): Promise<boolean> {
    return (await this.kv.get(`unlock:${sessionUid}`)) === accountId;
  }

  async savePendingEnrollment(sessionUid: string, sealedSecret: string): Promise<void> {
    await this.kv.set(`enroll:${sessionUid}`, sealedSecret, ENROLLMENT_SECONDS);
  }

  async pendingEnrollment(sessionUid: string): Promise<string | undefined> {
    return (await this.kv.get(`enroll:${sessionUid}`)) ?? undefined;
  }

  async clearPendingEnrollment(sessionUid: string): Promise<void> {
    await this.kv.delete(`enroll:${sessionUid}`);
  }
}
