import { notify } from '../flows/notify.js';
import { removeSecondFactor } from '../flows/remove-second-factor.js';
import type { Actor } from '../policy/permissions.js';
import { accountView, type AccountView } from './account-view.js';
import { accountOf, actorName, authorize, authorizeChanges, tenantFor, type AdminDependencies } from './context.js';

/**
 * docs/rules.md, rules 3 and 5: a key user requires (or un-requires) 2FA for one staff account;
 * never for a portal user (422). Required without 2FA set up takes effect at once: the account's
 * sessions end and its next login goes through enrollment. The holder is told.
 */
export async function setTwoFactorRequirement(deps: AdminDependencies, actor: Actor, slug: string, accountId: string, required: boolean, ip: string): Promise<AccountView> {
  const tenant = await tenantFor(deps, actor, slug);
  const account = await accountOf(deps, tenant, accountId);
  await authorize(deps, actor, 'require_two_factor', account.pool, { ip, accountId: account.id });
  await authorizeChanges(deps, actor, account, ['require_two_factor'], { ip });
  const updated = (await deps.accounts.update(account.id, { twoFactorRequired: required }))!;
  let endedSessions = 0;
  if (required && !account.twoFactorRequired && !(await deps.secondFactors.isEnabled(account.id))) endedSessions = await deps.sessions.endAll(account.id);
  await deps.audit.record({
    type: 'two_factor.requirement_changed',
    tenantId: tenant.id,
    accountId: account.id,
    actor: actorName(actor),
    ip,
    details: { required, ended_sessions: endedSessions },
  });
  if (required !== account.twoFactorRequired) await notify(deps, updated, required ? 'two_factor_required' : 'two_factor_not_required');
  return accountView(deps, tenant, updated);
}

/**
 * docs/rules.md, rule 10: secret, recovery code and remembered browsers removed, sessions ended.
 * At the next login a required account sees the QR code; any other signs in with the password alone.
 */
export async function resetTwoFactor(deps: AdminDependencies, actor: Actor, slug: string, accountId: string, ip: string): Promise<AccountView> {
  const tenant = await tenantFor(deps, actor, slug);
  const account = await accountOf(deps, tenant, accountId);
  await authorize(deps, actor, 'reset_two_factor', account.pool, { ip, accountId: account.id });
  await authorizeChanges(deps, actor, account, ['reset_two_factor'], { ip });
  await removeSecondFactor(deps, {
    account,
    event: 'two_factor.reset',
    mail: 'two_factor_reset',
    actor: actorName(actor),
    ip,
    locale: account.locale,
    endSessions: true,
  });
  return accountView(deps, tenant, account);
}
