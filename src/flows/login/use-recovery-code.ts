import type { Locale } from '../../locale.js';
import type { Account } from '../../stores/accounts.js';
import type { FlowDependencies } from '../dependencies.js';
import { removeSecondFactor } from '../remove-second-factor.js';
import { checkSecondFactor, type CodeOutcome } from './verify-code.js';

/**
 * docs/rules.md, rule 8: the recovery code signs the person in once and resets 2FA (secret and
 * code removed, remembered browsers forgotten); the login then continues into enrollment. Wrong
 * recovery codes count like wrong codes.
 */
export async function useRecoveryCode(
  deps: FlowDependencies,
  input: { account: Account; uid: string; recoveryCode: string; ip: string; locale: Locale },
): Promise<CodeOutcome> {
  const verify = deps.recoveryCode.verifier(input.account.id);
  const outcome = await checkSecondFactor(deps, input, 'recovery_code', () => verify(input.recoveryCode));
  if (outcome.result === 'accepted') {
    await deps.audit.record(outcome.audit);
    await removeSecondFactor(deps, {
      account: input.account,
      event: 'two_factor.recovery_used',
      mail: 'recovery_code_used',
      actor: `account:${input.account.id}`,
      ip: input.ip,
      locale: input.locale,
      endSessions: true,
    });
  }
  return outcome;
}
