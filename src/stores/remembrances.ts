import { createHash } from 'node:crypto';
import { isRandomToken, newRandomToken } from '../crypto/random-token.js';
import type { KeyValueStore } from './kv/key-value-store.js';

const hash = (token: string) => createHash('sha256').update(token).digest('base64url');
// the account id is the hash tag: all of an account's keys share one Redis Cluster slot
const key = (accountId: string, token: string) => `remember:{${accountId}}:${hash(token)}`;
const index = (accountId: string) => `remember:{${accountId}}:index`;

/**
 * "This browser passed the second factor for this account" (docs/rules.md, rule 11): the browser
 * keeps a random token in a cookie; the store keeps `{account}:{sha256(token)}` for the tenant's
 * hours, counted from the code and never extended. Per browser *and* account, never per account alone.
 */
export class RemembranceStore {
  constructor(private readonly kv: KeyValueStore) {}

  static newBrowserToken(): string {
    return newRandomToken();
  }

  async remember(accountId: string, browserToken: string, hours: number): Promise<void> {
    if (hours <= 0) return;
    const ttl = Math.round(hours * 3600);
    await Promise.all([this.kv.set(key(accountId, browserToken), String(Date.now()), ttl), this.kv.addToSet(index(accountId), hash(browserToken), ttl)]);
  }

  /**
   * Whether the browser passed a code for the account within `currentHours` (the tenant's setting
   * now: lowering it, to 0 even, applies at once to browsers remembered before). Throws when the
   * store cannot be reached: the caller then asks for the code (fail closed).
   */
  async isRemembered(accountId: string, browserToken: string | undefined, currentHours = Infinity): Promise<boolean> {
    if (!isRandomToken(browserToken) || currentHours <= 0) return false;
    const rememberedAt = await this.kv.get(key(accountId, browserToken));
    return rememberedAt !== null && Date.now() - Number(rememberedAt) < currentHours * 3600_000;
  }

  /**
   * Moves a remembrance to a new browser token: the same moment of the code and what it has left
   * to live, so renewing the token never extends it. Answers the seconds left (0: nothing moved).
   */
  async renew(accountId: string, oldToken: string, newToken: string): Promise<number> {
    if (!isRandomToken(oldToken)) return 0;
    const [rememberedAt, ttl] = await Promise.all([this.kv.get(key(accountId, oldToken)), this.kv.ttl(key(accountId, oldToken))]);
    if (rememberedAt === null || ttl <= 0) return 0;
    await Promise.all([this.kv.set(key(accountId, newToken), rememberedAt, ttl), this.kv.addToSet(index(accountId), hash(newToken), ttl)]);
    await this.forget(accountId, oldToken);
    return ttl;
  }

  async forget(accountId: string, browserToken: string): Promise<void> {
    if (!isRandomToken(browserToken)) return;
    await Promise.all([this.kv.delete(key(accountId, browserToken)), this.kv.removeFromSet(index(accountId), hash(browserToken))]);
  }

  /** Every browser of the account (disable, reset, recovery, password change). */
  async forgetAll(accountId: string): Promise<void> {
    const hashes = await this.kv.members(index(accountId));
    await this.kv.delete(...hashes.map((h) => `remember:{${accountId}}:${h}`), index(accountId));
  }

  /** Seconds left, for tests and the account page; -2 when not remembered. */
  async secondsLeft(accountId: string, browserToken: string): Promise<number> {
    return this.kv.ttl(key(accountId, browserToken));
  }
}
