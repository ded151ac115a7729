import type { PasswordProblem } from '../../policy/password-rules.js';
import type { FlowDependencies } from '../dependencies.js';
import { newPasswordProblem, setNewPassword } from './set-new-password.js';
import type { Locale } from '../../locale.js';

export type ResetOutcome = { result: 'done'; purpose: 'reset' | 'invitation' } | { result: 'invalid_link' } | { result: 'rejected'; problem: PasswordProblem };

/**
 * The page behind a reset or invitation link: the password rules first (a refused password does
 * not use the link up), then the link is used up — by exactly one request — and the password set.
 */
export async function completePasswordReset(
  deps: FlowDependencies,
  input: { token: unknown; password: string; ip: string; locale: Locale },
): Promise<ResetOutcome> {
  const peeked = await deps.passwordTokens.peek(input.token);
  const account = peeked && (await deps.accounts.findById(peeked.accountId));
  const tenant = account && (await deps.tenants.findById(account.tenantId));
  if (!peeked || !account || !tenant || account.disabled) return { result: 'invalid_link' };
  const problem = await newPasswordProblem(account, tenant, input.password);
  if (problem) return { result: 'rejected', problem };
  const taken = await deps.passwordTokens.take(input.token);
  if (!taken || taken.accountId !== account.id) return { result: 'invalid_link' };
  await setNewPassword(deps, {
    account,
    password: input.password,
    event: taken.purpose === 'invitation' ? 'password.set_from_invitation' : 'password.reset',
    actor: `account:${account.id}`,
    ip: input.ip,
    locale: input.locale,
    verifiesEmail: true, // following a link from the mailbox proves the address
  });
  return { result: 'done', purpose: taken.purpose };
}
