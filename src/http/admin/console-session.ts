import { createHash, randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import { z } from 'zod';
import type { KeyValueStore } from '../../stores/kv/key-value-store.js';
import { parseRecord } from '../../stores/records.js';

/** A console session ends after this long without a request (each request starts the count again). */
export const CONSOLE_IDLE_SECONDS = 15 * 60;
/** …and in any case this long after the sign-in. */
export const CONSOLE_MAX_SECONDS = 8 * 3600;

const consoleSession = z.object({
  tenantId: z.string(),
  accountId: z.string(),
  acr: z.string(),
  /** epoch seconds of the sign-in */
  since: z.number().int(),
});
export type ConsoleSession = z.infer<typeof consoleSession>;

/**
 * The admin console's own session, apart from the Sleutel login session: a random token in an
 * HttpOnly cookie, the session itself in the shared key-value store under the token's hash (so
 * any instance serves it, and a leaked store dump holds no usable cookie), with an idle timeout.
 */
export class ConsoleSessions {
  private readonly cookie: string;

  constructor(
    private readonly kv: KeyValueStore,
    production: boolean,
  ) {
    this.cookie = production ? '__Host-sleutel.admin' : 'sleutel.admin';
  }

  private key(token: string) {
    return `admin-console:${createHash('sha256').update(token).digest('base64url')}`;
  }

  /** A new session with a new token; a session this browser had before ends (no fixation, nothing left behind). */
  async open(ctx: Context, session: Omit<ConsoleSession, 'since'>): Promise<void> {
    const previous = ctx.cookies.get(this.cookie);
    if (previous && /^[A-Za-z0-9_-]{43}$/.test(previous)) await this.kv.delete(this.key(previous));
    const token = randomBytes(32).toString('base64url');
    await this.kv.set(this.key(token), JSON.stringify({ ...session, since: Math.floor(Date.now() / 1000) }), CONSOLE_IDLE_SECONDS);
    ctx.cookies.set(this.cookie, token, { httpOnly: true, sameSite: 'lax', secure: ctx.secure, path: '/', signed: false, overwrite: true });
  }

  /** The session of this browser, its idle time started again; undefined when there is none (any more). */
  async current(ctx: Context): Promise<ConsoleSession | undefined> {
    const token = ctx.cookies.get(this.cookie);
    if (!token || !/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
    const stored = await this.kv.get(this.key(token));
    // read back checked: a record of another version (or kind) is no session
    const session = parseRecord(consoleSession, stored);
    if (!stored || !session) return undefined;
    const age = Math.floor(Date.now() / 1000) - session.since;
    if (age >= CONSOLE_MAX_SECONDS) {
      await this.kv.delete(this.key(token));
      return undefined;
    }
    await this.kv.set(this.key(token), stored, Math.min(CONSOLE_IDLE_SECONDS, CONSOLE_MAX_SECONDS - age));
    return session;
  }

  async end(ctx: Context): Promise<void> {
    const token = ctx.cookies.get(this.cookie);
    if (token && /^[A-Za-z0-9_-]{43}$/.test(token)) await this.kv.delete(this.key(token));
    ctx.cookies.set(this.cookie, null, { path: '/', overwrite: true });
  }
}
