import { Forbidden, NotFound, Unprocessable } from '../errors.js';
import type { FlowDependencies } from '../flows/dependencies.js';
import { permission, type Actor, type AdminAction } from '../policy/permissions.js';
import type { Pool } from '../policy/tenant-policy.js';
import type { Account } from '../stores/accounts.js';
import type { Tenant } from '../stores/tenants.js';

/**
 * The management use cases work for an actor (a token's owner) on one tenant. A tenant or account
 * of another tenant is "not found" (404), never "forbidden", so tenants cannot be enumerated.
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

export function authorize(actor: Actor, action: AdminAction, target: Pool | 'tenant'): void {
  const verdict = permission(actor, action, target);
  if (verdict === 'not_applicable') {
    throw new Unprocessable('not_applicable', target === 'portal' && action === 'require_two_factor'
      ? 'two-factor authentication cannot be required for portal users; they decide for themselves'
      : `${action} does not apply to ${target}`);
  }
  if (verdict === 'forbidden') throw new Forbidden('error.forbidden', `your roles do not allow ${action} on ${target}`);
}

/** How an admin action appears in the audit log. */
export function actorName(actor: Actor): string {
  return actor.kind === 'service' ? `client:${actor.clientId}` : `account:${actor.accountId}`;
}
