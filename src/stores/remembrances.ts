import { createHash, randomBytes } from 'node:crypto';
import type { KeyValueStore } from './kv/key-value-store.js';

const hash = (token: string) => createHash('sha256').update(token).digest('base64url');
const key = (accountId: string, token: string) => `remember:${accountId}:${hash(token)}`;
const index = (accountId: string) => `remember:${accountId}:index`;

/**
 * "This browser passed the second factor for this account" (DESIGN §1, rule 11): the browser keeps
 * a random token in a cookie; the store keeps `{account}:{sha256(token)}` for the tenant's hours,
 * counted from the code and never extended. Per browser *and* account, never per account alone.
 */
export class RemembranceStore {
  constructor(private readonly kv: KeyValueStore) {}

  static newBrowserToken(): string {
    return randomBytes(32).toString('base64url');
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
    if (!browserToken || !/^[A-Za-z0-9_-]{43}$/.test(browserToken) || currentHours <= 0) return false;
    const rememberedAt = await this.kv.get(key(accountId, browserToken));
    return rememberedAt !== null && Date.now() - Number(rememberedAt) < currentHours * 3600_000;
  }

  async forget(accountId: string, browserToken: string): Promise<void> {
    await Promise.all([this.kv.delete(key(accountId, browserToken)), this.kv.removeFromSet(index(accountId), hash(browserToken))]);
  }

  /** Every browser of the account (disable, reset, recovery, password change). */
  async forgetAll(accountId: string): Promise<void> {
    const hashes = await this.kv.members(index(accountId));
    await this.kv.delete(...hashes.map((h) => `remember:${accountId}:${h}`), index(accountId));
  }

  /** Seconds left, for tests and the account page; -2 when not remembered. */
  async secondsLeft(accountId: string, browserToken: string): Promise<number> {
    return this.kv.ttl(key(accountId, browserToken));
  }
}
