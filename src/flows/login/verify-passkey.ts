import type { Locale } from '../../locale.js';
import type { Amr } from '../../policy/authentication-level.js';
import type { Account } from '../../stores/accounts.js';
import type { AuditEvent } from '../../stores/audit-events.js';
import type { AuthenticationResult } from '../../factors/passkey/index.js';
import type { FlowDependencies } from '../dependencies.js';
import { checkSecondFactor, type CodeOutcome } from './verify-code.js';

export type PasskeyOutcome =
  /** `audit`: the successes, not yet recorded (the caller writes them with the login's end) */
  | { result: 'accepted'; amr: Amr; audit: AuditEvent[] }
  | Exclude<CodeOutcome, { result: 'accepted' }>;

/**
 * A passkey's assertion in a login's challenge (issue 21): under the same lock check, attempt
 * count and lockout as a code (checkSecondFactor), so a refused assertion costs what a wrong code
 * costs. A refusal is audited with its reason; a validly signed assertion whose counter did not
 * go up (a cloned authenticator) as `passkey.cloned`.
 */
export async function verifyPasskey(
  deps: Pick<FlowDependencies, 'passkey' | 'lockout' | 'audit' | 'mailer' | 'tenants' | 'progress'>,
  input: { account: Account; uid: string; response: string; ip: string; locale: Locale },
): Promise<PasskeyOutcome> {
  const { account } = input;
  let verdict: AuthenticationResult | undefined;
  const outcome = await checkSecondFactor(deps, input, 'passkey', async () => {
    verdict = await deps.passkey.verify({ accountId: account.id, flowId: input.uid }, input.response);
    return verdict.ok;
  });
  const base = { tenantId: account.tenantId, accountId: account.id, actor: `account:${account.id}`, ip: input.ip };
  if (verdict && !verdict.ok) {
    await deps.audit.record(
      verdict.reason === 'cloned'
        ? { ...base, type: 'passkey.cloned', details: { passkey_id: verdict.passkey.id, name: verdict.passkey.name, stored_counter: verdict.passkey.counter, presented_counter: verdict.presentedCounter } }
        : { ...base, type: 'passkey.refused', details: { ceremony: 'authenticate', reason: verdict.reason } },
    );
  }
  if (outcome.result !== 'accepted') return outcome;
  if (!verdict?.ok) throw new Error('passkey: accepted without a verdict');
  return {
    result: 'accepted',
    amr: verdict.amr,
    audit: [outcome.audit, { ...base, type: 'passkey.used', details: { passkey_id: verdict.passkey.id, name: verdict.passkey.name, amr: verdict.amr } }],
  };
}
