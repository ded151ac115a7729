import { Conflict, Forbidden, Unprocessable } from '../errors.js';
import { hashPassword } from '../factors/password.js';
import type { Actor } from '../policy/permissions.js';
import type { Pool } from '../policy/tenant-policy.js';
import type { Role } from '../stores/accounts.js';
import { notify } from '../flows/notify.js';
import { newPasswordProblem } from '../flows/password/set-new-password.js';
import { accountView, accountViews, type AccountView } from './account-view.js';
import { accountOf, actorName, authorize, tenantFor, type AdminDependencies } from './context.js';

export async function listAccounts(deps: AdminDependencies, actor: Actor, slug: string, filter: { pool?: Pool; email?: string }): Promise<AccountView[]> {
  const tenant = await tenantFor(deps, actor, slug);
  authorize(actor, 'read', filter.pool ?? 'tenant');
  return accountViews(deps, tenant, await deps.accounts.list(tenant.id, filter));
}

export async function getAccount(deps: AdminDependencies, actor: Actor, slug: string, accountId: string): Promise<AccountView> {
  const tenant = await tenantFor(deps, actor, slug);
  const account = await accountOf(deps, tenant, accountId);
  authorize(actor, 'read', account.pool);
  return accountView(deps, tenant, account);
}

export async function createAccount(
  deps: AdminDependencies,
  actor: Actor,
  slug: string,
  input: { pool: Pool; email: string; name?: string; roles?: Role[]; password?: string; invite?: boolean },
  ip: string,
): Promise<AccountView> {
  const tenant = await tenantFor(deps, actor, slug);
  authorize(actor, 'manage_accounts', input.pool);
  if (input.pool === 'portal' && input.roles?.length) throw new Unprocessable('roles_not_applicable', 'portal accounts have no roles');
  if (input.roles) guardRoleChange(actor, undefined, [], input.roles);
  if (await deps.accounts.findByEmail(tenant.id, input.pool, input.email)) throw new Conflict(`an account for this e-mail address exists in the ${input.pool} pool`);
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
  if (invited) {
    const token = await deps.passwordTokens.issue(account.id, 'invitation');
    await notify(deps, account, 'invitation', 'nl', { link: `${deps.issuer}/password/reset?token=${token}` });
  }
  await deps.audit.record({ type: 'account.created', tenantId: tenant.id, accountId: account.id, actor: actorName(actor), ip, details: { pool: input.pool, invited } });
  return accountView(deps, tenant, account);
}

/**
 * Who may hand out roles (the design is silent; this keeps key users from promoting anyone):
 * only a coop_admin (or a service client) grants or takes coop_admin, and nobody changes their own roles.
 */
function guardRoleChange(actor: Actor, targetId: string | undefined, before: Role[], after: Role[]): void {
  if (actor.kind === 'user' && targetId === actor.accountId) throw new Forbidden('error.forbidden', 'roles: you cannot change your own roles');
  const coopAdminChanges = before.includes('coop_admin') !== after.includes('coop_admin');
  if (coopAdminChanges && actor.kind === 'user' && !actor.roles.includes('coop_admin')) {
    throw new Forbidden('error.forbidden', 'roles: only a coop_admin grants or takes the coop_admin role');
  }
}

/** Name, e-mail (unverified again when it changes), roles, disabled. Disabling ends the account's sessions everywhere. */
export async function updateAccount(
  deps: AdminDependencies,
  actor: Actor,
  slug: string,
  accountId: string,
  patch: { name?: string; email?: string; roles?: Role[]; disabled?: boolean },
  ip: string,
): Promise<AccountView> {
  const tenant = await tenantFor(deps, actor, slug);
  const account = await accountOf(deps, tenant, accountId);
  authorize(actor, 'manage_accounts', account.pool);
  if (account.pool === 'portal' && patch.roles?.length) throw new Unprocessable('roles_not_applicable', 'portal accounts have no roles');
  if (patch.email && patch.email.toLowerCase() !== account.email.toLowerCase() && (await deps.accounts.findByEmail(tenant.id, account.pool, patch.email))) {
    throw new Conflict(`an account for this e-mail address exists in the ${account.pool} pool`);
  }
  if (patch.roles) guardRoleChange(actor, account.id, account.roles, patch.roles);
  const emailChanged = patch.email !== undefined && patch.email.trim().toLowerCase() !== account.email.toLowerCase();
  const updated = (await deps.accounts.update(account.id, { ...patch, ...(emailChanged ? { emailVerified: false } : {}) }))!;
  if (patch.disabled && !account.disabled) await deps.sessions.endAll(account.id);
  await deps.audit.record({ type: 'account.updated', tenantId: tenant.id, accountId: account.id, actor: actorName(actor), ip, details: { fields: Object.keys(patch) } });
  return accountView(deps, tenant, updated);
}

/** Lifts a lockout before it runs out. */
export async function unblockAccount(deps: AdminDependencies, actor: Actor, slug: string, accountId: string, ip: string): Promise<AccountView> {
  const tenant = await tenantFor(deps, actor, slug);
  const account = await accountOf(deps, tenant, accountId);
  authorize(actor, 'manage_accounts', account.pool);
  await deps.lockout.clear(account.id);
  await deps.audit.record({ type: 'account.unblocked', tenantId: tenant.id, accountId: account.id, actor: actorName(actor), ip });
  return accountView(deps, tenant, account);
}
