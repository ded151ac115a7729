import { Conflict, Unprocessable } from '../errors.js';
import { hashPassword } from '../factors/password.js';
import { requestEmailChange } from '../flows/account/request-email-change.js';
import { notify } from '../flows/notify.js';
import { newPasswordProblem } from '../flows/password/set-new-password.js';
import type { AccountChange } from '../policy/dominance.js';
import { canonicalEmailOrUndefined } from '../policy/email-address.js';
import type { Actor } from '../policy/permissions.js';
import type { Role } from '../policy/roles.js';
import type { Pool } from '../policy/tenant-policy.js';
import type { Account } from '../stores/accounts.js';
import { accountView, accountViews, type AccountView } from './account-view.js';
import { accountOf, actorName, authorize, authorizeChanges, tenantFor, type AdminDependencies } from './context.js';

export async function listAccounts(deps: AdminDependencies, actor: Actor, slug: string, filter: { pool?: Pool; email?: string }, ip: string | null = null): Promise<AccountView[]> {
  const tenant = await tenantFor(deps, actor, slug);
  await authorize(deps, actor, 'read', filter.pool ?? 'tenant', { ip });
  return accountViews(deps, tenant, await deps.accounts.list(tenant.id, filter));
}

export async function getAccount(deps: AdminDependencies, actor: Actor, slug: string, accountId: string, ip: string | null = null): Promise<AccountView> {
  const tenant = await tenantFor(deps, actor, slug);
  const account = await accountOf(deps, tenant, accountId);
  await authorize(deps, actor, 'read', account.pool, { ip, accountId: account.id });
  return accountView(deps, tenant, account);
}

async function ensureAddressFree(deps: AdminDependencies, account: { tenantId: string; pool: Pool; id?: string }, email: string): Promise<void> {
  const holder = await deps.accounts.findByEmail(account.tenantId, account.pool, email);
  if (holder && holder.id !== account.id) throw new Conflict(`an account for this e-mail address exists in the ${account.pool} pool`);
}

export async function createAccount(
  deps: AdminDependencies,
  actor: Actor,
  slug: string,
  input: { pool: Pool; email: string; name?: string; roles?: Role[]; password?: string; invite?: boolean },
  ip: string,
): Promise<AccountView> {
  const tenant = await tenantFor(deps, actor, slug);
  await authorize(deps, actor, 'manage_accounts', input.pool, { ip });
  if (input.pool === 'portal' && input.roles?.length) throw new Unprocessable('roles_not_applicable', 'portal accounts have no roles');
  // a new account holds nothing yet: only the roles handed out are checked
  if (input.roles?.length) await authorizeChanges(deps, actor, { id: '', roles: [] }, ['roles'], { ip, newRoles: input.roles });
  await ensureAddressFree(deps, { tenantId: tenant.id, pool: input.pool }, input.email);
  if (input.password !== undefined) {
    const problem = await newPasswordProblem({ email: input.email, pool: input.pool }, tenant, input.password);
    if (problem) throw new Unprocessable(`password_${problem}`, `password: refused (${problem.replace('_', ' ')})`);
  }
  const account = await deps.accounts.create({
    tenantId: tenant.id,
    pool: input.pool,
    email: input.email,
    name: input.name,
    roles: input.roles,
    passwordHash: input.password === undefined ? null : await hashPassword(input.password),
  });
  const invited = input.password === undefined && input.invite !== false;
  await deps.audit.record({ type: 'account.created', tenantId: tenant.id, accountId: account.id, actor: actorName(actor), ip, details: { pool: input.pool, invited } });
  if (invited) {
    const token = await deps.passwordTokens.issue(account.id, 'invitation');
    await notify(deps, account, 'invitation', account.locale, { link: `${deps.issuer}/password/reset?token=${token}` });
  } else {
    await notify(deps, account, 'account_created', account.locale);
  }
  return accountView(deps, tenant, account);
}

export interface AccountPatch {
  name?: string;
  email?: string;
  roles?: Role[];
  disabled?: boolean;
}

/** The dominance rule's changes that a patch makes (every field given counts, changed or not). */
function changesOf(patch: AccountPatch): AccountChange[] {
  const fields: [keyof AccountPatch, AccountChange][] = [['name', 'name'], ['email', 'email'], ['roles', 'roles'], ['disabled', 'disabled']];
  return fields.filter(([field]) => patch[field] !== undefined).map(([, change]) => change);
}

/**
 * Name, roles, disabled — and the e-mail address, which changes only once the new address
 * confirms a link (until then the view shows it as `pending_email`). Disabling ends the account's
 * sessions everywhere. The holder is told of every change.
 */
export async function updateAccount(deps: AdminDependencies, actor: Actor, slug: string, accountId: string, patch: AccountPatch, ip: string): Promise<AccountView> {
  const tenant = await tenantFor(deps, actor, slug);
  const account = await accountOf(deps, tenant, accountId);
  await authorize(deps, actor, 'manage_accounts', account.pool, { ip, accountId: account.id });
  if (account.pool === 'portal' && patch.roles?.length) throw new Unprocessable('roles_not_applicable', 'portal accounts have no roles');
  await authorizeChanges(deps, actor, account, changesOf(patch), { ip, newRoles: patch.roles });
  // the same address in another spelling is no change (addresses are kept in their canonical form)
  const wanted = patch.email === undefined ? undefined : (canonicalEmailOrUndefined(patch.email) ?? patch.email.trim());
  const newEmail = wanted !== undefined && wanted !== account.email ? wanted : undefined;
  if (newEmail) await ensureAddressFree(deps, account, newEmail);
  const direct = { name: patch.name, roles: patch.roles, disabled: patch.disabled };
  const updated = Object.values(direct).some((v) => v !== undefined) ? (await deps.accounts.update(account.id, direct))! : account;
  // disabled: signed out everywhere, and no browser skips the code should the account come back
  if (patch.disabled && !account.disabled) await Promise.all([deps.sessions.endAll(account.id), deps.remembrances.forgetAll(account.id)]);
  await deps.audit.record({ type: 'account.updated', tenantId: tenant.id, accountId: account.id, actor: actorName(actor), ip, details: { fields: Object.keys(patch) } });
  if (newEmail) await requestEmailChange(deps, { account: updated, email: newEmail, actor: actorName(actor), ip });
  await notifyUpdate(deps, account, updated);
  return accountView(deps, tenant, updated);
}

async function notifyUpdate(deps: AdminDependencies, before: Account, after: Account): Promise<void> {
  if (after.disabled !== before.disabled) await notify(deps, after, after.disabled ? 'account_disabled' : 'account_enabled');
  const changed = [after.name !== before.name && 'name', after.roles.join() !== before.roles.join() && 'roles'].filter(Boolean);
  if (changed.length) await notify(deps, after, 'account_changed', after.locale, { roles: after.roles.join(', ') || '—' });
}

/** Lifts a lockout before it runs out. */
export async function unblockAccount(deps: AdminDependencies, actor: Actor, slug: string, accountId: string, ip: string): Promise<AccountView> {
  const tenant = await tenantFor(deps, actor, slug);
  const account = await accountOf(deps, tenant, accountId);
  await authorize(deps, actor, 'manage_accounts', account.pool, { ip, accountId: account.id });
  await authorizeChanges(deps, actor, account, ['unblock'], { ip });
  const wasLocked = (await deps.lockout.lockedFor(account.id)) > 0;
  await deps.lockout.clear(account.id);
  await deps.audit.record({ type: 'account.unblocked', tenantId: tenant.id, accountId: account.id, actor: actorName(actor), ip });
  if (wasLocked) await notify(deps, account, 'account_unblocked');
  return accountView(deps, tenant, account);
}
