import { createHash } from 'node:crypto';
import { isBcryptHash } from '../../factors/password.js';
import { isImportedRecoveryCode } from '../../factors/recovery-code.js';
import { isUsableTotpSecret } from '../../factors/totp.js';
import { canonicalEmail, EMAIL_PROBLEMS } from '../../policy/email-address.js';
import type { Role } from '../../stores/accounts.js';
import type { Pool } from '../../policy/tenant-policy.js';
import { ImportFailure, parseDateTime, rowSchemas, type PortalRow, type StaffRow } from './export-file.js';
import { LaravelDecryptError, LaravelMacError } from './laravel-decrypt.js';
import { KNOWN_ECONOBIS_ROLES, sleutelRole } from './roles.js';

/** Which row of the export: for the report. */
export interface RowRef {
  pool: Pool;
  index: number;
  econobisId: string | number | null;
  email: string | null;
}

export interface Refusal extends RowRef {
  reason: string;
}

export interface ImportedTwoFactor {
  secret: string;
  confirmedAt: Date;
  recoveryCode: string | null;
}

/** A row that can be imported, in Sleutel's terms. */
export interface Candidate extends RowRef {
  email: string;
  name: string;
  roles: Role[];
  disabled: boolean;
  twoFactorRequired: boolean;
  passwordHash: string | null;
  twoFactor: ImportedTwoFactor | null;
  notes: string[];
  /** per part, a SHA-256 of the source values (see migrations/…_import_marks.ts) */
  fingerprints: { profile: string; password: string; two_factor: string };
}

export type Decrypt = (encrypted: string) => string;

export interface ReadRows {
  candidates: Candidate[];
  refusals: Refusal[];
  /** encrypted values whose MAC verified / did not: all failing means the wrong APP_KEY */
  macs: { verified: number; failed: number };
}

class RowRefused extends Error {}

// The secret and recovery code carry 80+ bits each, so a hash of them gives nothing away.
const fingerprint = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex');

function refOf(pool: Pool, index: number, raw: unknown): RowRef {
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const id = typeof r.id === 'number' || typeof r.id === 'string' ? r.id : null;
  return { pool, index, econobisId: id, email: typeof r.email === 'string' ? r.email.trim() : null };
}

/** Checks and converts every row of one pool; refuses what cannot be taken, saying why. */
export function readRows(pool: Pool, rows: unknown[], decrypt: Decrypt | undefined): ReadRows {
  const result: ReadRows = { candidates: [], refusals: [], macs: { verified: 0, failed: 0 } };
  const open = (field: string, encrypted: string): string => {
    if (!decrypt) throw new ImportFailure(`the export holds encrypted 2FA data: give the Econobis APP_KEY with --app-key or ECONOBIS_APP_KEY`);
    try {
      const plain = decrypt(encrypted);
      result.macs.verified += 1;
      return plain;
    } catch (error) {
      if (error instanceof LaravelMacError) result.macs.failed += 1;
      if (error instanceof LaravelDecryptError) throw new RowRefused(`${field}: ${error.message}`);
      throw error;
    }
  };
  rows.forEach((raw, index) => {
    const ref = refOf(pool, index, raw);
    try {
      result.candidates.push(readRow(ref, raw, open));
    } catch (error) {
      if (!(error instanceof RowRefused)) throw error;
      result.refusals.push({ ...ref, reason: error.message });
    }
  });
  refuseDuplicates(result);
  return result;
}

function readRow(ref: RowRef, raw: unknown, open: (field: string, encrypted: string) => string): Candidate {
  const parsed = ref.pool === 'staff' ? rowSchemas.staff.safeParse(raw) : rowSchemas.portal.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new RowRefused(`${issue.path.join('.') || 'row'}: ${issue.message}`);
  }
  const row: PortalRow & Partial<Pick<StaffRow, 'roles' | 'require_two_factor_authentication'>> = parsed.data;
  const notes: string[] = [];
  // the canonical form decides which account a row is (the same as for sign-in and reset)
  const address = canonicalEmail(row.email);
  if (!address.ok) throw new RowRefused(`email: ${EMAIL_PROBLEMS[address.problem]}`);

  const roles: Role[] = [];
  for (const name of row.roles ?? []) {
    const role = sleutelRole(name);
    if (!role) throw new RowRefused(`unknown role "${name}" (Sleutel takes ${KNOWN_ECONOBIS_ROLES.map((r) => `"${r}"`).join(' and ')})`);
    if (!roles.includes(role)) roles.push(role);
  }
  if (row.password !== null && !isBcryptHash(row.password)) throw new RowRefused('password: not a bcrypt hash ($2y$, cost at most 12)');
  if (row.password === null) notes.push('no password in Econobis: the account signs in after "Wachtwoord vergeten"');

  let twoFactor: ImportedTwoFactor | null = null;
  if (row.two_factor_confirmed_at === null) {
    if (row.two_factor_secret !== null) notes.push('2FA was never confirmed in Econobis: not taken over');
  } else {
    if (row.two_factor_secret === null) throw new RowRefused('two_factor_confirmed_at is set but two_factor_secret is empty');
    const secret = open('two_factor_secret', row.two_factor_secret).toUpperCase().replace(/[\s=]/g, '');
    if (!isUsableTotpSecret(secret)) throw new RowRefused('two_factor_secret: not a base32 TOTP key of 80 to 512 bits');
    const confirmedAt = parseDateTime(row.two_factor_confirmed_at);
    if (Number.isNaN(confirmedAt.getTime())) throw new RowRefused('two_factor_confirmed_at: is not a date and time');
    twoFactor = { secret, confirmedAt, recoveryCode: row.two_factor_recovery_codes === null ? null : firstRecoveryCode(open('two_factor_recovery_codes', row.two_factor_recovery_codes)) };
    if (twoFactor.recoveryCode === null) notes.push('no recovery codes in Econobis: 2FA taken over without a recovery code');
  }

  const profile = { name: row.name, roles, disabled: !row.active, twoFactorRequired: row.require_two_factor_authentication ?? false };
  return {
    ...ref,
    email: address.address,
    ...profile,
    passwordHash: row.password,
    twoFactor,
    notes,
    fingerprints: {
      profile: fingerprint([profile.name, [...roles].sort(), profile.disabled, profile.twoFactorRequired]),
      password: fingerprint(row.password),
      two_factor: fingerprint(twoFactor && [twoFactor.secret, twoFactor.recoveryCode]),
    },
  };
}

/** Fortify stores the codes as an encrypted JSON list; Econobis showed its users only the first. */
function firstRecoveryCode(json: string): string {
  let codes: unknown;
  try {
    codes = JSON.parse(json);
  } catch {
    throw new RowRefused('two_factor_recovery_codes: not a JSON list');
  }
  if (!Array.isArray(codes) || codes.length === 0) throw new RowRefused('two_factor_recovery_codes: not a list of codes');
  const first = codes[0];
  if (typeof first !== 'string' || !isImportedRecoveryCode(first)) throw new RowRefused('two_factor_recovery_codes: the first code is not in Fortify\'s form (10 letters or digits, a dash, 10 more)');
  return first.trim();
}

/** Two rows with one address in a pool: which of them is the person is unknown, so neither is taken. */
function refuseDuplicates(result: ReadRows): void {
  const byEmail = new Map<string, Candidate[]>();
  // candidates carry canonical addresses: equal strings are the same address
  for (const c of result.candidates) byEmail.set(c.email, [...(byEmail.get(c.email) ?? []), c]);
  const duplicates = new Set([...byEmail.values()].filter((group) => group.length > 1).flat());
  if (duplicates.size === 0) return;
  for (const c of duplicates) {
    const others = byEmail.get(c.email)!.filter((o) => o !== c).map((o) => `#${o.econobisId ?? `row ${o.index}`}`);
    result.refusals.push({ pool: c.pool, index: c.index, econobisId: c.econobisId, email: c.email, reason: `duplicate e-mail address: also used by ${others.join(', ')} in this export` });
  }
  result.candidates = result.candidates.filter((c) => !duplicates.has(c));
  result.refusals.sort((a, b) => a.index - b.index);
}
