import { createHash } from 'node:crypto';
import type { Context } from 'koa';

/**
 * The cookies that identify this browser to the remembrance store: one random token per account
 * that passed its second factor here, HttpOnly. One per account, so that renewing one account's
 * token never costs another account in the same browser its remembrance.
 *
 * A token is never taken over from the request: a fresh one is issued whenever a remembrance is
 * written (after a code) or used to establish a session. A token planted in the browser (a cookie
 * tossed from a sibling subdomain, a shared machine) is therefore never the one a victim's code
 * is remembered under, and a token that leaked stops working at its holder's next login.
 */
export class BrowserCookie {
  private readonly base: string;

  constructor(production: boolean) {
    this.base = production ? '__Host-sleutel.browser' : 'sleutel.browser';
  }

  /** The cookie's name for an account: a short hash, so the account id is not spelled out. */
  private name(accountId: string): string {
    return `${this.base}.${createHash('sha256').update(accountId).digest('base64url').slice(0, 12)}`;
  }

  /** The account's token in this browser. */
  read(ctx: Context, accountId: string): string | undefined {
    return ctx.cookies.get(this.name(accountId)) ?? undefined;
  }

  /** Sends the account's token for as long as its remembrance lasts. */
  set(ctx: Context, accountId: string, token: string, seconds: number): void {
    ctx.cookies.set(this.name(accountId), token, this.options(ctx, seconds * 1000));
  }

  clear(ctx: Context, accountId: string): void {
    ctx.cookies.set(this.name(accountId), null, this.options(ctx, 0));
  }

  private options(ctx: Context, maxAge: number) {
    return { httpOnly: true, sameSite: 'lax' as const, secure: ctx.secure, path: '/', maxAge, overwrite: true };
  }
}
