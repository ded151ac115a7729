import type { Account } from '../../stores/accounts.js';
import type { FlowDependencies } from '../dependencies.js';
import { notify } from '../notify.js';

/**
 * A new e-mail address for an account (by an admin, or the holder through the admin API): nothing
 * changes yet. The new address gets a link to confirm it; the current one is told, so a takeover
 * by a changed address cannot pass unnoticed. Until the link is followed the account signs in —
 * and receives password-reset mail — at its current, confirmed address.
 */
export async function requestEmailChange(
  deps: Pick<FlowDependencies, 'emailChanges' | 'mailer' | 'tenants' | 'audit' | 'issuer'>,
  input: { account: Account; email: string; actor: string; ip: string | null },
): Promise<void> {
  const { account, email } = input;
  const token = await deps.emailChanges.request(account.id, email);
  await deps.audit.record({ type: 'account.email_change_requested', tenantId: account.tenantId, accountId: account.id, actor: input.actor, ip: input.ip });
  await Promise.all([
    notify(deps, account, 'email_change_confirm', account.locale, { link: `${deps.issuer}/email/confirm?token=${token}`, email }, { to: email }),
    notify(deps, account, 'email_change_requested', account.locale, { email }),
  ]);
}
