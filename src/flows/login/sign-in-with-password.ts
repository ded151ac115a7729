import { hashPassword, needsRehash, verifyPassword } from '../../factors/password.js';
import type { Account, AccountStore } from '../../stores/accounts.js';
import type { AuditLog } from '../../stores/audit-events.js';
import type { Pool } from '../../policy/tenant-policy.js';

export interface PasswordAttempt {
  tenantId: string;
  pool: Pool;
  email: string;
  password: string;
  ip: string;
  clientId: string;
}

export type PasswordOutcome = { ok: true; account: Account } | { ok: false };

/**
 * The first step of every login. Unknown e-mail, wrong password and a disabled account give the
 * same outcome after the same work (one argon2 verify); only the audit event tells them apart.
 */
export async function signInWithPassword(
  deps: { accounts: AccountStore; audit: AuditLog },
  attempt: PasswordAttempt,
): Promise<PasswordOutcome> {
  const account = await deps.accounts.findByEmail(attempt.tenantId, attempt.pool, attempt.email);
  const valid = await verifyPassword(account?.passwordHash, attempt.password);
  if (!account || !valid || account.disabled) {
    const reason = !account ? 'unknown_email' : account.disabled ? 'disabled' : 'wrong_password';
    await deps.audit.record({
      type: 'login.failed',
      tenantId: attempt.tenantId,
      accountId: account?.id,
      actor: account ? `account:${account.id}` : 'anonymous',
      ip: attempt.ip,
      details: { reason, pool: attempt.pool, client_id: attempt.clientId },
    });
    return { ok: false };
  }
  if (account.passwordHash && needsRehash(account.passwordHash)) {
    await deps.accounts.setPasswordHash(account.id, await hashPassword(attempt.password));
  }
  return { ok: true, account };
}
