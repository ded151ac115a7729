import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import { isRandomToken, newRandomToken } from '../crypto/random-token.js';
import { SleutelError } from '../errors.js';

export class CsrfRejected extends SleutelError {
  constructor() {
    super(403, 'csrf', 'form.csrf');
  }
}

/**
 * Signed double-submit tokens: a random value in an HttpOnly cookie, and in each form the HMAC of
 * that value under the first cookie key. An attacker's page can neither read the cookie nor compute
 * the token. Older cookie keys still verify, so rotating COOKIE_KEYS breaks no open form.
 */
export class Csrf {
  private readonly cookieName: string;

  constructor(
    private readonly keys: string[],
    production: boolean,
  ) {
    this.cookieName = production ? '__Host-sleutel.csrf' : 'sleutel.csrf';
  }

  private mac(key: string, value: string): string {
    return createHmac('sha256', key).update(`csrf:${value}`).digest('base64url');
  }

  token(ctx: Context): string {
    let value = ctx.cookies.get(this.cookieName);
    if (!isRandomToken(value)) {
      value = newRandomToken();
      ctx.cookies.set(this.cookieName, value, { httpOnly: true, sameSite: 'lax', secure: ctx.secure, path: '/', signed: false, overwrite: true });
    }
    return this.mac(this.keys[0]!, value);
  }

  verify(ctx: Context, submitted: unknown): void {
    const value = ctx.cookies.get(this.cookieName);
    if (!value || typeof submitted !== 'string' || submitted.length > 100) throw new CsrfRejected();
    const given = Buffer.from(submitted);
    const ok = this.keys.some((key) => {
      const expected = Buffer.from(this.mac(key, value));
      return expected.length === given.length && timingSafeEqual(expected, given);
    });
    if (!ok) throw new CsrfRejected();
  }
}
