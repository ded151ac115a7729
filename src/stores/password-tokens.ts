import { createHash } from 'node:crypto';
import { isRandomToken, newRandomToken } from '../crypto/random-token.js';
import { z } from 'zod';
import type { KeyValueStore } from './kv/key-value-store.js';
import { parseRecord } from './records.js';

/**
 * Single-use links to set a password: "Wachtwoord vergeten" (valid 60 minutes) and invitations
 * (7 days). The store keeps only the SHA-256 of the token; `take` hands it to exactly one caller.
 */
export type PasswordTokenPurpose = 'reset' | 'invitation';

export const PASSWORD_TOKEN_SECONDS: Record<PasswordTokenPurpose, number> = { reset: 60 * 60, invitation: 7 * 24 * 3600 };

const key = (token: string) => `password-token:${createHash('sha256').update(token).digest('base64url')}`;

const tokenRecord = z.object({ accountId: z.string(), purpose: z.enum(['reset', 'invitation']) });
export type PasswordTokenRecord = z.infer<typeof tokenRecord>;

export class PasswordTokenStore {
  constructor(private readonly kv: KeyValueStore) {}

  async issue(accountId: string, purpose: PasswordTokenPurpose): Promise<string> {
    const token = newRandomToken();
    await this.kv.set(key(token), JSON.stringify({ accountId, purpose }), PASSWORD_TOKEN_SECONDS[purpose]);
    return token;
  }

  /** Looks without using it up (to show the form). */
  async peek(token: unknown): Promise<PasswordTokenRecord | undefined> {
    if (!isRandomToken(token)) return undefined;
    return parseRecord(tokenRecord, await this.kv.get(key(token)));
  }

  /** Uses the token up; a second call (or a racing one) gets undefined. */
  async take(token: unknown): Promise<PasswordTokenRecord | undefined> {
    if (!isRandomToken(token)) return undefined;
    return parseRecord(tokenRecord, await this.kv.take(key(token)));
  }
}
