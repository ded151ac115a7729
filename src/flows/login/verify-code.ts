import type { Locale } from '../../locale.js';
import { MAX_CODE_ATTEMPTS_PER_CHALLENGE } from '../../policy/lockout.js';
import type { Account } from '../../stores/accounts.js';
import type { AuditEvent, AuditEventType } from '../../stores/audit-events.js';
import type { FlowDependencies } from '../dependencies.js';
import { registerAccountFailure } from './register-failure.js';

export type CodeOutcome =
  /** `audit`: the success, not yet recorded: the caller records it with what follows (a login's end is one insert) */
  | { result: 'accepted'; audit: AuditEvent }
  | { result: 'wrong'; attemptsLeft: number }
  | { result: 'locked'; seconds: number }
  | { result: 'challenge_ended' };

/**
 * The code challenge of a login. Refused while the account is locked (the right code too);
 * a wrong code or a replayed one counts against the challenge (at most 5 checks, counted before
 * checking, so parallel requests cannot get more) and against the account's lockout, which every
 * instance shares. The accepted time step is recorded atomically.
 */
export async function verifyLoginCode(
  deps: Pick<FlowDependencies, 'totp' | 'lockout' | 'audit' | 'mailer' | 'tenants' | 'progress'>,
  input: { account: Account; uid: string; code: string; ip: string; locale: Locale },
): Promise<CodeOutcome> {
  const verify = deps.totp.verifier(input.account.id);
  return checkSecondFactor(deps, input, 'code', () => verify(input.code));
}

/** Shared by codes, recovery codes and passkeys: lock check, attempt counting, audit. */
export async function checkSecondFactor(
  deps: Pick<FlowDependencies, 'lockout' | 'audit' | 'mailer' | 'tenants' | 'progress'>,
  input: { account: Account; uid: string; ip: string; locale: Locale },
  kind: 'code' | 'recovery_code' | 'passkey',
  check: () => Promise<boolean>,
): Promise<CodeOutcome> {
  const { account } = input;
  const auditEvent = (type: AuditEventType, details: Record<string, unknown> = {}): AuditEvent => ({
    type,
    tenantId: account.tenantId,
    accountId: account.id,
    actor: `account:${account.id}`,
    ip: input.ip,
    details: { kind, ...details },
  });
  const event = (type: AuditEventType, details: Record<string, unknown> = {}) => deps.audit.record(auditEvent(type, details));

  const [used, lockedFor] = await Promise.all([deps.progress.attempts(input.uid), deps.lockout.lockedFor(account.id)]);
  // a challenge whose checks are used up stays ended, locked or not
  if (used >= MAX_CODE_ATTEMPTS_PER_CHALLENGE) return { result: 'challenge_ended' };
  if (lockedFor > 0) {
    await event('second_factor.refused_locked');
    return { result: 'locked', seconds: lockedFor };
  }
  const attempt = await deps.progress.countAttempt(input.uid);
  if (attempt > MAX_CODE_ATTEMPTS_PER_CHALLENGE) return { result: 'challenge_ended' };
  if (await check()) return { result: 'accepted', audit: auditEvent('second_factor.succeeded') };
  await event('second_factor.failed', { attempt });
  const { lockedForSeconds } = await registerAccountFailure(deps, account, input.ip, input.locale);
  if (lockedForSeconds > 0) return { result: 'locked', seconds: lockedForSeconds };
  if (attempt >= MAX_CODE_ATTEMPTS_PER_CHALLENGE) return { result: 'challenge_ended' };
  return { result: 'wrong', attemptsLeft: MAX_CODE_ATTEMPTS_PER_CHALLENGE - attempt };
}
