import { isWellFormedCode, matchTotp } from '../../factors/totp.js';
import { MAX_CODE_ATTEMPTS_PER_CHALLENGE } from '../../policy/lockout.js';
import type { Account } from '../../stores/accounts.js';
import type { LoginProgress } from '../../stores/login-progress.js';
import type { FlowDependencies } from '../dependencies.js';
import { registerAccountFailure } from './register-failure.js';

export type CodeOutcome =
  | { result: 'accepted' }
  | { result: 'wrong'; attemptsLeft: number }
  | { result: 'locked'; seconds: number }
  | { result: 'challenge_ended' };

/**
 * The code challenge of a login. Refused while the account is locked (the right code too);
 * a wrong code or a replayed one counts against the challenge (at most 5) and the account's
 * lockout, which every instance shares. The accepted time step is recorded atomically.
 */
export async function verifyLoginCode(
  deps: Pick<FlowDependencies, 'secondFactors' | 'lockout' | 'audit' | 'mailer' | 'tenants'>,
  input: { account: Account; progress: LoginProgress; code: string; ip: string },
): Promise<CodeOutcome> {
  return checkSecondFactor(deps, input, 'code', async () => {
    const totp = await deps.secondFactors.findTotp(input.account.id);
    if (!totp || !isWellFormedCode(input.code)) return false;
    const step = await matchTotp(totp.secret, input.code, totp.lastTimeStep);
    return step !== undefined && (await deps.secondFactors.acceptTimeStep(input.account.id, step));
  });
}

/** Shared by codes and recovery codes: lock check, attempt counting, audit. */
export async function checkSecondFactor(
  deps: Pick<FlowDependencies, 'lockout' | 'audit' | 'mailer' | 'tenants'>,
  input: { account: Account; progress: LoginProgress; ip: string },
  kind: 'code' | 'recovery_code',
  check: () => Promise<boolean>,
): Promise<CodeOutcome> {
  const { account, progress } = input;
  const event = (type: string, details: Record<string, unknown> = {}) =>
    deps.audit.record({ type, tenantId: account.tenantId, accountId: account.id, actor: `account:${account.id}`, ip: input.ip, details: { kind, ...details } });

  if (progress.codeFailures >= MAX_CODE_ATTEMPTS_PER_CHALLENGE) return { result: 'challenge_ended' };
  const lockedFor = await deps.lockout.lockedFor(account.id);
  if (lockedFor > 0) {
    await event('second_factor.refused_locked');
    return { result: 'locked', seconds: lockedFor };
  }
  if (await check()) {
    await event('second_factor.succeeded');
    return { result: 'accepted' };
  }
  progress.codeFailures += 1;
  await event('second_factor.failed', { attempt: progress.codeFailures });
  const { lockedForSeconds } = await registerAccountFailure(deps, account, input.ip);
  if (lockedForSeconds > 0) return { result: 'locked', seconds: lockedForSeconds };
  if (progress.codeFailures >= MAX_CODE_ATTEMPTS_PER_CHALLENGE) return { result: 'challenge_ended' };
  return { result: 'wrong', attemptsLeft: MAX_CODE_ATTEMPTS_PER_CHALLENGE - progress.codeFailures };
}
