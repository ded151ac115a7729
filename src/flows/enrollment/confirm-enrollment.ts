import { hashRecoveryCode, newRecoveryCode } from '../../factors/recovery-code.js';
import type { Locale } from '../../locale.js';
import type { Account } from '../../stores/accounts.js';
import type { FlowDependencies } from '../dependencies.js';
import { notify } from '../notify.js';

export type ConfirmOutcome =
  | { ok: true; recoveryCode: string }
  | { ok: false; reason: 'malformed_code' | 'wrong_code' | 'already_enabled' };

const REFUSED = { malformed: 'malformed_code', wrong: 'wrong_code', already_enabled: 'already_enabled' } as const;

/**
 * Enrollment step 2: a current code confirms the pending credential. Only now is anything stored —
 * the credential (with the code's time step, so the same code cannot be used again to sign in) and
 * the hash of a new recovery code, which is returned to be shown once.
 */
export async function confirmEnrollment(
  deps: FlowDependencies,
  input: { account: Account; sealedSecret: string; code: string; ip: string; locale: Locale },
): Promise<ConfirmOutcome> {
  const recoveryCode = newRecoveryCode();
  const result = await deps.totp.confirm(input.account.id, input.sealedSecret, input.code, hashRecoveryCode(recoveryCode));
  if (result !== 'confirmed') return { ok: false, reason: REFUSED[result] };
  await deps.audit.record({ type: 'two_factor.enabled', tenantId: input.account.tenantId, accountId: input.account.id, actor: `account:${input.account.id}`, ip: input.ip });
  await notify(deps, input.account, 'two_factor_enabled', input.locale);
  return { ok: true, recoveryCode };
}
