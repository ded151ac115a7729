import { z } from 'zod';
import { AMR_VALUES } from '../policy/authentication-level.js';
import type { KeyValueStore } from './kv/key-value-store.js';
import { parseRecord } from './records.js';

/**
 * Where a login stands between its screens, keyed by the interaction's uid (which only the
 * browser holding the interaction cookie can use) and living as long as an interaction.
 */
const progressRecord = z
  .object({
    accountId: z.string(),
    step: z.enum(['challenge', 'enroll', 'recovery_code_shown', 'ended']),
    /** factors passed so far in this login */
    amr: z.array(z.enum(AMR_VALUES)),
    /** enrollment may be skipped (2FA not required for the account) */
    skippable: z.boolean(),
    /** the sealed credential of an enrollment that awaits its first proof */
    pendingEnrollment: z.string().optional(),
    /** the same, as a login begun before the rename wrote it */
    pendingSecret: z.string().optional(),
  })
  .transform(({ pendingSecret, ...progress }) => ({ ...progress, pendingEnrollment: progress.pendingEnrollment ?? pendingSecret }));

export type LoginProgress = Omit<z.output<typeof progressRecord>, 'pendingEnrollment'> & { pendingEnrollment?: string };

const TTL_SECONDS = 3600;
// {uid} is a Redis Cluster hash tag: the progress and its attempt counter live in one slot.
const key = (uid: string) => `login:{${uid}}`;

export class LoginProgressStore {
  constructor(private readonly kv: KeyValueStore) {}

  async get(uid: string): Promise<LoginProgress | undefined> {
    return parseRecord(progressRecord, await this.kv.get(key(uid)));
  }

  async save(uid: string, progress: LoginProgress): Promise<void> {
    await this.kv.set(key(uid), JSON.stringify(progress), TTL_SECONDS);
  }

  /**
   * Counts one code (or recovery code) check of this login, atomically: requests racing in one
   * interaction get distinct numbers, so no more checks than allowed ever run.
   */
  async countAttempt(uid: string): Promise<number> {
    return this.kv.increment(`${key(uid)}:attempts`, TTL_SECONDS);
  }

  async attempts(uid: string): Promise<number> {
    return Number((await this.kv.get(`${key(uid)}:attempts`)) ?? 0);
  }

  async clear(uid: string): Promise<void> {
    await this.kv.delete(key(uid), `${key(uid)}:attempts`);
  }
}
