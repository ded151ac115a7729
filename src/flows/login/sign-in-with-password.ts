import { hashPassword, needsRehash, verifyPassword } from '../../factors/password.js';
import type { Account } from '../../stores/accounts.js';
import type { Pool } from '../../policy/tenant-policy.js';
import type { FlowDependencies } from '../dependencies.js';
import { registerAccountFailure } from './register-failure.js';

export interface PasswordAttempt {
  tenantId: string;
  pool: Pool;
  email: string;
  password: string;
  ip: string;
  clientId: string;
  locale?: 'nl' | 'en';
}

export type PasswordOutcome = { ok: true; account: Account } | { ok: false };

/**
 * The first step of every login. Unknown e-mail, wrong password, a disabled account and a locked
 * account or IP address all give the same outcome after the same work (one argon2 verify), so the
 * answer tells nothing about which accounts exist; only the audit event tells them apart. The
 * right password is refused too while locked.
 */
export async function signInWithPassword(
  deps: Pick<FlowDependencies, 'accounts' | 'audit' | 'lockout' | 'ipLockout' | 'mailer' | 'tenants'>,
  attempt: PasswordAttempt,
): Promise<PasswordOutcome> {
  const [account, ipLockedFor] = await Promise.all([
    deps.accounts.findByEmail(attempt.tenantId, attempt.pool, attempt.email),
    deps.ipLockout.lockedFor(attempt.ip),
  ]);
  const [accountLockedFor, valid] = await Promise.all([account ? deps.lockout.lockedFor(account.id) : 0, verifyPassword(account?.passwordHash, attempt.password)]);
  const audit = (type: string, details: Record<string, unknown>) =>
    deps.audit.record({
      type,
      tenantId: attempt.tenantId,
      accountId: account?.id,
      actor: account ? `account:${account.id}` : 'anonymous',
      ip: attempt.ip,
      details: { pool: attempt.pool, client_id: attempt.clientId, ...details },
    });

  if (ipLockedFor > 0 || accountLockedFor > 0) {
    await audit('login.refused_locked', { locked: ipLockedFor > 0 ? 'ip' : 'account' });
    return { ok: false };
  }
  if (!account || !valid || account.disabled) {
    await deps.ipLockout.registerFailure(attempt.ip);
    if (account && !valid) await registerAccountFailure(deps, account, attempt.ip, attempt.locale);
    await audit('login.failed', { reason: !account ? 'unknown_email' : !valid ? 'wrong_password' : 'disabled' });
    return { ok: false };
  }
  if (account.passwordHash && needsRehash(account.passwordHash)) {
    await deps.accounts.setPasswordHash(account.id, await hashPassword(attempt.password));
  }
  return { ok: true, account };
}
