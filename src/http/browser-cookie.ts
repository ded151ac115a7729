import type { Context } from 'koa';
import { RemembranceStore } from '../stores/remembrances.js';

/**
 * The cookie that identifies this browser to the remembrance store: a random token, HttpOnly.
 * It lives as long as the longest remembrance a tenant may set (720 h), so a short remembrance of
 * one account never cuts another's; the store's TTL per account is what counts.
 */
const LIFETIME_MS = 720 * 3600_000;
export class BrowserCookie {
  private readonly name: string;

  constructor(production: boolean) {
    this.name = production ? '__Host-sleutel.browser' : 'sleutel.browser';
  }

  read(ctx: Context): string | undefined {
    return ctx.cookies.get(this.name) ?? undefined;
  }

  /** The browser's token, created when it has none. */
  ensure(ctx: Context): string {
    const token = this.read(ctx) ?? RemembranceStore.newBrowserToken();
    ctx.cookies.set(this.name, token, { httpOnly: true, sameSite: 'lax', secure: ctx.secure, path: '/', maxAge: LIFETIME_MS, overwrite: true });
    return token;
  }
}
