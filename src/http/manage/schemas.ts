import { z } from 'zod';
import { MAX_PASSWORD_LENGTH } from '../../factors/password.js';
import { MIN_PASSWORD_LENGTH } from '../../policy/password-rules.js';
import { MAX_ISSUER_LENGTH, MAX_MIN_PASSWORD_LENGTH, MAX_REMEMBER_HOURS } from '../../policy/tenant-policy.js';
import { canonicalEmail, EMAIL_PROBLEMS } from '../../policy/email-address.js';

/** The management API's inputs and outputs; the router validates with them and the OpenAPI document is generated from them. */
export const tenantSlug = z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'is not a tenant slug');
export const accountId = z.uuid({ message: 'is not an account id (UUID)' });
const pool = z.enum(['staff', 'portal']);
const role = z.enum(['key_user', 'coop_admin']);
/** Checked and turned into its canonical form (src/policy/email-address.ts): the API answers with that form. */
const email = z
  .string()
  .max(320)
  .describe('an e-mail address; the answer holds its canonical form (lowercase ASCII before the @, the domain in IDNA ASCII form)')
  .transform((value, ctx) => {
    const check = canonicalEmail(value);
    if (check.ok) return check.address;
    ctx.addIssue({ code: 'custom', message: EMAIL_PROBLEMS[check.problem] });
    return z.NEVER;
  });
const name = z.string().trim().max(200);

export const tenantParams = z.object({ tenant: tenantSlug });
export const accountParams = z.object({ tenant: tenantSlug, id: accountId });

export const listAccountsQuery = z.strictObject({ pool: pool.optional(), email: email.optional() });

export const createAccountBody = z.strictObject({
  pool,
  email,
  name: name.optional(),
  roles: z.array(role).max(2).optional().describe('staff only'),
  password: z.string().min(8).max(MAX_PASSWORD_LENGTH).optional().describe('an initial password (checked against the password rules)'),
  invite: z.boolean().optional().describe('mail a link to choose a password, valid 7 days (the default without a password)'),
}).refine((b) => !(b.password !== undefined && b.invite), 'give either password or invite, not both');

export const updateAccountBody = z
  .strictObject({ name: name.optional(), email: email.optional(), roles: z.array(role).max(2).optional(), disabled: z.boolean().optional() })
  .refine((b) => Object.keys(b).length > 0, 'nothing to change');

export const requirementBody = z.strictObject({ required: z.boolean() });

export const policyQuery = z.strictObject({ preview: z.literal('require_two_factor_for_all_staff').optional() });

const hours = z.number().int().min(0).max(MAX_REMEMBER_HOURS);
const minLength = z.number().int().min(MIN_PASSWORD_LENGTH).max(MAX_MIN_PASSWORD_LENGTH);
const issuer = z.string().trim().min(1).max(MAX_ISSUER_LENGTH);
export const policyBody = z
  .strictObject({
    require_two_factor_for_all_staff: z.boolean().optional(),
    remember_two_factor_hours: z.strictObject({ staff: hours.optional(), portal: hours.optional() }).optional(),
    forget_two_factor_on_logout: z.boolean().optional(),
    totp_issuer: z.strictObject({ staff: issuer.optional(), portal: issuer.optional() }).optional(),
    min_password_length: z.strictObject({ staff: minLength.optional(), portal: minLength.optional() }).optional(),
  })
  .refine((b) => Object.keys(b).length > 0, 'nothing to change');

export const auditQuery = z.strictObject({
  account: accountId.optional(),
  type: z.string().regex(/^[a-z_.]{1,64}$/, 'is not an event type').optional(),
  since: z.iso
    .datetime({ offset: true, message: 'is not an ISO 8601 date-time' })
    .refine((v) => Date.parse(v) >= 0 && Date.parse(v) < 253402300800000 /* year 10000 */, 'must lie between 1970 and 9999')
    .optional(),
});

const twoFactorStatus = z.object({ enabled: z.boolean(), required: z.boolean(), required_by: z.enum(['tenant', 'account', 'none']) });
export const accountView = z.object({
  id: z.uuid(),
  pool,
  email: z.string(),
  name: z.string(),
  roles: z.array(role),
  disabled: z.boolean(),
  two_factor: twoFactorStatus,
  locked_for_seconds: z.number().int(),
  pending_email: z.string().optional().describe('a new address waiting for the confirmation link sent to it; the account keeps `email` until then'),
  second_factors: z
    .object({
      kinds: z.array(z.enum(['totp', 'passkey', 'recovery_code'])),
      passkeys: z.array(z.object({ id: z.uuid(), name: z.string(), created_at: z.iso.datetime({ offset: true }), last_used_at: z.iso.datetime({ offset: true }).nullable() })),
    })
    .describe('which second factors the account has: their kinds, and each passkey by name and dates — never a secret or key'),
});
export const accountList = z.object({ accounts: z.array(accountView) });

const policy = z.object({
  require_two_factor_for_all_staff: z.boolean(),
  remember_two_factor_hours: z.object({ staff: z.number(), portal: z.number() }),
  forget_two_factor_on_logout: z.boolean(),
  totp_issuer: z.object({ staff: z.string().optional(), portal: z.string().optional() }),
  min_password_length: z.object({ staff: z.number(), portal: z.number() }),
});
export const policyView = z.object({ policy, affected_accounts: z.number().int().optional() });
export const policyChange = z.object({ policy, affected_accounts: z.number().int() });

const poolStats = z.object({ with_two_factor: z.number().int(), without_two_factor: z.number().int() });
export const stats = z.object({ staff: poolStats, portal: poolStats });

export const auditList = z.object({
  events: z.array(
    z.object({ id: z.number().int(), type: z.string(), account: z.string().nullable(), actor: z.string(), ip: z.string().nullable(), details: z.record(z.string(), z.unknown()), created_at: z.string() }),
  ),
});

export const errorBody = z.object({ error: z.string(), error_description: z.string() });
