import type { Account } from '../../stores/accounts.js';
import type { FlowDependencies } from '../dependencies.js';
import { notify } from '../notify.js';

export type EmailChangeOutcome = { result: 'done'; account: Account } | { result: 'invalid_link' } | { result: 'address_taken' };

const isUniqueViolation = (error: unknown) => (error as { code?: string }).code === '23505';

/**
 * The page behind the link sent to a new address: following it proves the address, so it becomes
 * the account's (verified) address. The old address is told once more. An address another account
 * of the pool took meanwhile is refused without using the link up.
 */
export async function confirmEmailChange(
  deps: Pick<FlowDependencies, 'emailChanges' | 'accounts' | 'mailer' | 'tenants' | 'audit'>,
  input: { token: unknown; ip: string },
): Promise<EmailChangeOutcome> {
  const peeked = await deps.emailChanges.peek(input.token);
  const account = peeked && (await deps.accounts.findById(peeked.accountId));
  if (!peeked || !account || account.disabled) return { result: 'invalid_link' };
  const holder = await deps.accounts.findByEmail(account.tenantId, account.pool, peeked.email);
  if (holder && holder.id !== account.id) return { result: 'address_taken' };
  const taken = await deps.emailChanges.take(input.token);
  if (!taken || taken.accountId !== account.id) return { result: 'invalid_link' };
  let updated: Account | undefined;
  try {
    updated = await deps.accounts.update(account.id, { email: taken.email, emailVerified: true });
  } catch (error) {
    if (isUniqueViolation(error)) return { result: 'address_taken' };
    throw error;
  }
  if (!updated) return { result: 'invalid_link' };
  await deps.audit.record({
    type: 'account.email_changed',
    tenantId: account.tenantId,
    accountId: account.id,
    actor: `account:${account.id}`,
    ip: input.ip,
  });
  await notify(deps, account, 'email_changed', account.locale, { email: taken.email });
  return { result: 'done', account: updated };
}
