import { hashRecoveryCode, newRecoveryCode } from '../../factors/recovery-code.js';
import { isWellFormedCode, matchTotp } from '../../factors/totp.js';
import type { Account } from '../../stores/accounts.js';
import type { FlowDependencies } from '../dependencies.js';
import { pendingSecret } from './begin-enrollment.js';
import { notify } from '../notify.js';

export type ConfirmOutcome =
  | { ok: true; recoveryCode: string }
  | { ok: false; reason: 'malformed_code' | 'wrong_code' | 'already_enabled' };

/**
 * Enrollment step 2: a current code confirms the pending secret. Only now is anything stored —
 * the secret with the code's time step (so the same code cannot be used again to sign in) and the
 * hash of a new recovery code, which is returned to be shown once.
 */
export async function confirmEnrollment(
  deps: FlowDependencies,
  input: { account: Account; sealedSecret: string; code: string; ip: string; locale: 'nl' | 'en' },
): Promise<ConfirmOutcome> {
  if (!isWellFormedCode(input.code)) return { ok: false, reason: 'malformed_code' };
  const secret = pendingSecret(deps, input.account, input.sealedSecret);
  const timeStep = await matchTotp(secret, input.code);
  if (timeStep === undefined) return { ok: false, reason: 'wrong_code' };
  const recoveryCode = newRecoveryCode();
  if (!(await deps.secondFactors.enable(input.account.id, secret, timeStep, hashRecoveryCode(recoveryCode)))) {
    return { ok: false, reason: 'already_enabled' };
  }
  await deps.audit.record({ type: 'two_factor.enabled', tenantId: input.account.tenantId, accountId: input.account.id, actor: `account:${input.account.id}`, ip: input.ip });
  await notify(deps, input.account, 'two_factor_enabled', input.locale);
  return { ok: true, recoveryCode };
}
