import { Forbidden, NotFound, Unprocessable } from '../errors.js';
import type { FlowDependencies } from '../flows/dependencies.js';
import { mayChangeAccount, REFUSAL_TEXT, type AccountChange } from '../policy/dominance.js';
import { permission, type Actor, type AdminAction } from '../policy/permissions.js';
import type { Role } from '../policy/roles.js';
import type { Pool } from '../policy/tenant-policy.js';
import type { Account } from '../stores/accounts.js';
import type { Tenant } from '../stores/tenants.js';

/**
 * The management use cases work for an actor (a token's owner, or a console user) on one tenant.
 * A tenant or account of another tenant is "not found" (404), never "forbidden", so tenants
 * cannot be enumerated. Every refusal is a 403 with its reason and an audit event.
 */
export type AdminDependencies = FlowDependencies;

export async function tenantFor(deps: AdminDependencies, actor: Actor, slug: string): Promise<Tenant> {
  const tenant = await deps.tenants.findBySlug(slug);
  if (!tenant || tenant.id !== actor.tenantId) throw new NotFound('error.not_found', 'no such tenant');
  return tenant;
}

export async function accountOf(deps: AdminDependencies, tenant: Tenant, accountId: string): Promise<Account> {
  const account = await deps.accounts.findById(accountId);
  if (!account || account.tenantId !== tenant.id) throw new NotFound('error.not_found', 'no such account');
  return account;
}

/** How an admin action appears in the audit log. */
export function actorName(actor: Actor): string {
  return actor.kind === 'service' ? `client:${actor.clientId}` : `account:${actor.accountId}`;
}

async function refuse(deps: AdminDependencies, actor: Actor, description: string, details: Record<string, unknown>, ip: string | null, accountId?: string): Promise<never> {
  await deps.audit.record({ type: 'admin.refused', tenantId: actor.tenantId, accountId: accountId ?? null, actor: actorName(actor), ip, details: { ...details, reason: description } });
  throw new Forbidden('error.forbidden', description);
}

/** The role table: may the actor's roles take `action` on this pool (or the tenant)? */
export async function authorize(
  deps: AdminDependencies,
  actor: Actor,
  action: AdminAction,
  target: Pool | 'tenant',
  context: { ip: string | null; accountId?: string },
): Promise<void> {
  const verdict = permission(actor, action, target);
  if (verdict === 'not_applicable') {
    throw new Unprocessable('not_applicable', target === 'portal' && action === 'require_two_factor'
      ? 'two-factor authentication cannot be required for portal users; they decide for themselves'
      : `${action} does not apply to ${target}`);
  }
  if (verdict === 'forbidden') await refuse(deps, actor, `your roles do not allow ${action} on ${target}`, { action, target }, context.ip, context.accountId);
}

/** The dominance rule for each change to one account (docs/rules.md § Role table). */
export async function authorizeChanges(
  deps: AdminDependencies,
  actor: Actor,
  target: { id: string; roles: readonly Role[] },
  changes: AccountChange[],
  context: { ip: string | null; newRoles?: Role[] },
): Promise<void> {
  const who = actor.kind === 'service' ? { kind: 'service' as const } : actor;
  for (const change of changes) {
    const verdict = mayChangeAccount(who, change, target, change === 'roles' ? context.newRoles : undefined);
    if (!verdict.allowed) await refuse(deps, actor, `${change}: ${REFUSAL_TEXT[verdict.reason]}`, { change, rule: verdict.reason }, context.ip, target.id || undefined);
  }
}
