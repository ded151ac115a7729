import { createHash } from 'node:crypto';
import { z } from 'zod';
import { isRandomToken, newRandomToken } from '../crypto/random-token.js';
import type { KeyValueStore } from './kv/key-value-store.js';

const hash = (token: string) => createHash('sha256').update(token).digest('base64url');
// the account id is the hash tag: all of an account's keys share one Redis Cluster slot
const entryKey = (accountId: string, entryId: string) => `remember:{${accountId}}:${entryId}`;
const key = (accountId: string, token: string) => entryKey(accountId, hash(token));
const index = (accountId: string) => `remember:{${accountId}}:index`;
const ENTRY_ID = /^[A-Za-z0-9_-]{43}$/;

/** What the account page shows of a browser: a short description, never the User-Agent itself. */
export interface BrowserDescription {
  browser?: string;
  os?: string;
}

const description = z.string().max(64).optional();
// `at`: the moment of the code. Versions before the account page's list stored the bare number.
const record = z.object({ at: z.number().int().positive(), browser: description, os: description });
type RemembranceRecord = z.infer<typeof record>;

function parseRecord(value: string | null): RemembranceRecord | undefined {
  if (value === null) return undefined;
  if (/^\d+$/.test(value)) return { at: Number(value) };
  try {
    const parsed = record.safeParse(JSON.parse(value));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** A browser that currently skips the code for the account, as the account page lists it. */
export interface RememberedBrowser extends BrowserDescription {
  /** opaque: the hash of the browser's token (not the token), so the page can name it in a form */
  id: string;
  rememberedAt: Date;
  expiresAt: Date;
}

/**
 * "This browser passed the second factor for this account" (docs/rules.md, rule 11): the browser
 * keeps a random token in a cookie; the store keeps `{account}:{sha256(token)}` for the tenant's
 * hours, counted from the code and never extended. Per browser *and* account, never per account alone.
 * The value is the moment of the code with the browser's short description.
 */
export class RemembranceStore {
  constructor(private readonly kv: KeyValueStore) {}

  static newBrowserToken(): string {
    return newRandomToken();
  }

  /** The id the account page lists a browser's remembrance by. */
  static entryId(browserToken: string): string {
    return hash(browserToken);
  }

  async remember(accountId: string, browserToken: string, hours: number, device: BrowserDescription = {}): Promise<void> {
    if (hours <= 0) return;
    const ttl = Math.round(hours * 3600);
    const value: RemembranceRecord = { at: Date.now(), browser: device.browser?.slice(0, 64), os: device.os?.slice(0, 64) };
    await Promise.all([this.kv.set(key(accountId, browserToken), JSON.stringify(value), ttl), this.kv.addToSet(index(accountId), hash(browserToken), ttl)]);
  }

  /**
   * Whether the browser passed a code for the account within `currentHours` (the tenant's setting
   * now: lowering it, to 0 even, applies at once to browsers remembered before). Throws when the
   * store cannot be reached: the caller then asks for the code (fail closed).
   */
  async isRemembered(accountId: string, browserToken: string | undefined, currentHours = Infinity): Promise<boolean> {
    if (!isRandomToken(browserToken) || currentHours <= 0) return false;
    const remembered = parseRecord(await this.kv.get(key(accountId, browserToken)));
    return remembered !== undefined && Date.now() - remembered.at < currentHours * 3600_000;
  }

  /**
   * Moves a remembrance to a new browser token: the same moment of the code, the same description
   * and what it has left to live, so renewing the token never extends it. Answers the seconds left
   * (0: nothing moved).
   */
  async renew(accountId: string, oldToken: string, newToken: string): Promise<number> {
    if (!isRandomToken(oldToken)) return 0;
    const [value, ttl] = await Promise.all([this.kv.get(key(accountId, oldToken)), this.kv.ttl(key(accountId, oldToken))]);
    const remembered = parseRecord(value);
    if (!remembered || ttl <= 0) return 0;
    await Promise.all([this.kv.set(key(accountId, newToken), JSON.stringify(remembered), ttl), this.kv.addToSet(index(accountId), hash(newToken), ttl)]);
    await this.forget(accountId, oldToken);
    return ttl;
  }

  /**
   * The account's browsers that skip the code now (within `currentHours`, the tenant's setting),
   * oldest first. An entry that has expired (or has less than a second left, which Redis reports
   * as 0) or cannot be read is removed with its index entry.
   */
  async list(accountId: string, currentHours = Infinity): Promise<RememberedBrowser[]> {
    if (currentHours <= 0) return [];
    const ids = (await this.kv.members(index(accountId))).filter((id) => ENTRY_ID.test(id));
    const [values, ttls] = await Promise.all([this.kv.getMany(ids.map((id) => entryKey(accountId, id))), Promise.all(ids.map((id) => this.kv.ttl(entryKey(accountId, id))))]);
    const now = Date.now();
    const browsers: RememberedBrowser[] = [];
    await Promise.all(
      ids.map(async (id, i) => {
        const remembered = parseRecord(values[i] ?? null);
        if (!remembered || ttls[i]! <= 0) {
          await Promise.all([this.kv.delete(entryKey(accountId, id)), this.kv.removeFromSet(index(accountId), id)]);
          return;
        }
        const expiresAt = Math.min(now + ttls[i]! * 1000, remembered.at + currentHours * 3600_000);
        if (expiresAt <= now) return;
        browsers.push({ id, browser: remembered.browser, os: remembered.os, rememberedAt: new Date(remembered.at), expiresAt: new Date(expiresAt) });
      }),
    );
    return browsers.sort((a, b) => a.rememberedAt.getTime() - b.rememberedAt.getTime() || a.id.localeCompare(b.id));
  }

  async forget(accountId: string, browserToken: string): Promise<void> {
    if (!isRandomToken(browserToken)) return;
    await Promise.all([this.kv.delete(key(accountId, browserToken)), this.kv.removeFromSet(index(accountId), hash(browserToken))]);
  }

  /** One of the account's browsers by the id `list` gave; false when the account has no such entry. */
  async forgetEntry(accountId: string, entryId: string): Promise<boolean> {
    if (!ENTRY_ID.test(entryId)) return false;
    const [deleted] = await Promise.all([this.kv.delete(entryKey(accountId, entryId)), this.kv.removeFromSet(index(accountId), entryId)]);
    return deleted > 0;
  }

  /** Every browser of the account (disable, reset, recovery, password change). */
  async forgetAll(accountId: string): Promise<void> {
    const hashes = await this.kv.members(index(accountId));
    await this.kv.delete(...hashes.map((h) => entryKey(accountId, h)), index(accountId));
  }

  /** Seconds left, for tests and the account page; -2 when not remembered. */
  async secondsLeft(accountId: string, browserToken: string): Promise<number> {
    return this.kv.ttl(key(accountId, browserToken));
  }
}
