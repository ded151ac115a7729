import { randomBytes } from 'node:crypto';

/**
 * The random tokens Sleutel hands out — link tokens, the browser's remembrance token, the CSRF
 * cookie, the console session: 256 bits, base64url. A value read back from a request is checked
 * against this shape before anything is looked up with it.
 */
export function newRandomToken(): string {
  return randomBytes(32).toString('base64url');
}

const SHAPE = /^[A-Za-z0-9_-]{43}$/;

export function isRandomToken(value: unknown): value is string {
  return typeof value === 'string' && SHAPE.test(value);
}
