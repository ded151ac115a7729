import { hashPassword, needsRehash } from '../../factors/password.js';
import type { Locale } from '../../locale.js';
import type { Account } from '../../stores/accounts.js';
import type { AuditEventType } from '../../stores/audit-events.js';
import type { Pool } from '../../policy/tenant-policy.js';
import type { FlowDependencies } from '../dependencies.js';
import { checkPasswordUnderLockout } from '../password/check-password.js';

export interface PasswordAttempt {
  tenantId: string;
  pool: Pool;
  email: string;
  password: string;
  ip: string;
  clientId: string;
  locale?: Locale;
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
  const check = await checkPasswordUnderLockout(deps, { account, password: attempt.password, ip: attempt.ip, locale: attempt.locale, ipLockedFor });
  const audit = (type: AuditEventType, details: Record<string, unknown>) =>
    deps.audit.record({
      type,
      tenantId: attempt.tenantId,
      accountId: account?.id,
      actor: account ? `account:${account.id}` : 'anonymous',
      ip: attempt.ip,
      details: { pool: attempt.pool, client_id: attempt.clientId, ...details },
    });

  if (check.result === 'locked') {
    await audit('login.refused_locked', { locked: check.by });
    return { ok: false };
  }
  if (!account || check.result === 'wrong' || account.disabled) {
    await deps.ipLockout.registerFailure(attempt.ip);
    await audit('login.failed', { reason: !account ? 'unknown_email' : check.result === 'wrong' ? 'wrong_password' : 'disabled' });
    return { ok: false };
  }
  if (account.passwordHash && needsRehash(account.passwordHash)) {
    await deps.accounts.setPasswordHash(account.id, await hashPassword(attempt.password));
  }
  return { ok: true, account };
}
