import { z } from 'zod';
import { ACCOUNT_CLIENT_ID } from '../oidc/account-client.js';
import { canonicalEmail, EMAIL_PROBLEMS } from '../policy/email-address.js';
import { ADMIN_CLIENT_PREFIX } from '../oidc/admin-client.js';
import { CliFailure } from './output.js';

export const slug = z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'use lowercase letters, digits and dashes (at most 63)');
export const pool = z.enum(['staff', 'portal'], { message: 'must be staff or portal' });
export const role = z.enum(['key_user', 'coop_admin'], { message: 'must be key_user or coop_admin' });
export const clientId = z
  .string()
  .regex(/^[A-Za-z0-9._~-]{1,128}$/, 'use letters, digits and . _ ~ - (at most 128)')
  .refine((id) => id !== ACCOUNT_CLIENT_ID, `"${ACCOUNT_CLIENT_ID}" is Sleutel's own account-page client`)
  .refine((id) => !id.startsWith(ADMIN_CLIENT_PREFIX), `"${ADMIN_CLIENT_PREFIX}…" is reserved for Sleutel's admin console clients`);
/** Checked and turned into its canonical form (src/policy/email-address.ts), as on the screens and the API. */
export const email = z.string().transform((value, ctx) => {
  const check = canonicalEmail(value);
  if (check.ok) return check.address;
  ctx.addIssue({ code: 'custom', message: EMAIL_PROBLEMS[check.problem] });
  return z.NEVER;
});
export const secret = z.string().min(32, 'must be at least 32 characters').max(512);

/** Redirect URIs are compared exactly; no fragments, and plain http only for localhost. */
export const redirectUri = z.string().refine((value) => {
  try {
    const u = new URL(value);
    if (u.hash || u.username || u.password) return false;
    if (u.protocol === 'https:') return true;
    return u.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);
  } catch {
    return false;
  }
}, 'must be an https URL without fragment (http only for localhost)');

export function check<T extends z.ZodType>(schema: T, value: unknown, name: string): z.infer<T> {
  if (value === undefined) throw new CliFailure(`${name} is required`, 2);
  const result = schema.safeParse(value);
  if (!result.success) throw new CliFailure(`${name}: ${result.error.issues[0]?.message ?? 'is invalid'}`, 2);
  return result.data;
}
