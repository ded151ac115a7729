import { commonPasswordCheck } from '../../factors/common-passwords.js';
import { hashPassword, MAX_PASSWORD_LENGTH } from '../../factors/password.js';
import { passwordProblem, type PasswordProblem } from '../../policy/password-rules.js';
import type { Account } from '../../stores/accounts.js';
import type { AuditEventType } from '../../stores/audit-events.js';
import type { Tenant } from '../../stores/tenants.js';
import type { FlowDependencies } from '../dependencies.js';
import { notify } from '../notify.js';
import type { Locale } from '../../locale.js';

/** The rules for a new password of this account (its tenant's minimum for its pool). */
export async function newPasswordProblem(account: Pick<Account, 'email' | 'pool'>, tenant: Tenant, password: string): Promise<PasswordProblem | undefined> {
  return passwordProblem(password, {
    minLength: tenant.policy.min_password_length[account.pool],
    maxLength: MAX_PASSWORD_LENGTH,
    email: account.email,
    isCommon: await commonPasswordCheck(),
  });
}

/**
 * The last step of every password change (reset link, invitation, account page): the new hash,
 * sessions and remembered browsers ended (but `keepSessionUid`), the lockout lifted, an audit event
 * and a mail. Two-factor authentication stays as it was (docs/rules.md, rule 12): the next login
 * still asks the code.
 */
export async function setNewPassword(
  deps: FlowDependencies,
  input: { account: Account; password: string; event: AuditEventType; actor: string; ip: string; locale: Locale; keepSessionUid?: string; verifiesEmail?: boolean },
): Promise<void> {
  const { account } = input;
  await deps.accounts.setPasswordHash(account.id, await hashPassword(input.password));
  if (input.verifiesEmail && !account.emailVerified) await deps.accounts.markEmailVerified(account.id);
  const endedSessions = await deps.sessions.endAll(account.id, { exceptUid: input.keepSessionUid });
  await deps.remembrances.forgetAll(account.id);
  await deps.lockout.clear(account.id);
  await deps.audit.record({ type: input.event, tenantId: account.tenantId, accountId: account.id, actor: input.actor, ip: input.ip, details: { ended_sessions: endedSessions } });
  await notify(deps, account, 'password_changed', input.locale);
}
