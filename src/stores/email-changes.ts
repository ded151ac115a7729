import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { isRandomToken, newRandomToken } from '../crypto/random-token.js';
import type { KeyValueStore } from './kv/key-value-store.js';
import { parseRecord as parse } from './records.js';

/** How long the link to confirm a new e-mail address works. */
export const EMAIL_CHANGE_SECONDS = 48 * 3600;

const digest = (token: string) => createHash('sha256').update(token).digest('base64url');
const tokenKey = (token: string) => `email-change:token:${digest(token)}`;
// one pending change per account: a newer request replaces the older one (its link stops working)
const pendingKey = (accountId: string) => `email-change:{${accountId}}:pending`;

const tokenRecord = z.object({ accountId: z.string(), email: z.string() });
const pendingRecord = z.object({ email: z.string(), digest: z.string() });

export interface EmailChange {
  accountId: string;
  email: string;
}

/**
 * A new e-mail address waiting for its confirmation (docs/rules.md § Role table): the address an
 * account signs in with, and where password-reset mail goes, changes only when somebody follows the
 * link sent to the new address. The store keeps the SHA-256 of the link's token.
 */
export class EmailChangeStore {
  constructor(private readonly kv: KeyValueStore) {}

  async request(accountId: string, email: string): Promise<string> {
    const token = newRandomToken();
    await Promise.all([
      this.kv.set(tokenKey(token), JSON.stringify({ accountId, email }), EMAIL_CHANGE_SECONDS),
      this.kv.set(pendingKey(accountId), JSON.stringify({ email, digest: digest(token) }), EMAIL_CHANGE_SECONDS),
    ]);
    return token;
  }

  /** The address an account is waiting to confirm, if any. */
  async pending(accountId: string): Promise<string | undefined> {
    return parse(pendingRecord, await this.kv.get(pendingKey(accountId)))?.email;
  }

  /** Looks without using it up (to show the confirmation page); only the account's newest request counts. */
  async peek(token: unknown): Promise<EmailChange | undefined> {
    if (!isRandomToken(token)) return undefined;
    const change = parse(tokenRecord, await this.kv.get(tokenKey(token)));
    return change && (await this.isNewest(change.accountId, token)) ? change : undefined;
  }

  /** Uses the link up: exactly one caller gets the change, and only while it is the newest one. */
  async take(token: unknown): Promise<EmailChange | undefined> {
    if (!isRandomToken(token)) return undefined;
    const change = parse(tokenRecord, await this.kv.take(tokenKey(token)));
    if (!change || !(await this.isNewest(change.accountId, token))) return undefined;
    await this.kv.delete(pendingKey(change.accountId));
    return change;
  }

  async cancel(accountId: string): Promise<void> {
    await this.kv.delete(pendingKey(accountId));
  }

  private async isNewest(accountId: string, token: string): Promise<boolean> {
    const pending = parse(pendingRecord, await this.kv.get(pendingKey(accountId)));
    return Boolean(pending) && timingSafeEqual(Buffer.from(pending!.digest), Buffer.from(digest(token)));
  }
}
