import type { Context } from 'koa';
import { RemembranceStore } from '../stores/remembrances.js';

/**
 * The cookie that identifies this browser to the remembrance store: a random token, HttpOnly,
 * living as long as the longest remembrance it was last used for (the store's TTL is what counts).
 */
export class BrowserCookie {
  private readonly name: string;

  constructor(production: boolean) {
    this.name = production ? '__Host-sleutel.browser' : 'sleutel.browser';
  }

  read(ctx: Context): string | undefined {
    return ctx.cookies.get(this.name) ?? undefined;
  }

  /** The browser's token, created when it has none; the cookie is (re)set for `hours`. */
  ensure(ctx: Context, hours: number): string {
    const token = this.read(ctx) ?? RemembranceStore.newBrowserToken();
    ctx.cookies.set(this.name, token, { httpOnly: true, sameSite: 'lax', secure: ctx.secure, path: '/', maxAge: hours * 3600_000, overwrite: true });
    return token;
  }
}
