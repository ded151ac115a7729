import type { Actor } from '../policy/permissions.js';
import { mergePolicy, type PolicyPatch } from '../policy/tenant-policy.js';
import { notify } from '../flows/notify.js';
import { actorName, authorize, tenantFor, type AdminDependencies } from './context.js';

/** The policy; with `previewRequireAll`, also how many staff a tenant-wide requirement would affect at once. */
export async function getPolicy(deps: AdminDependencies, actor: Actor, slug: string, previewRequireAll: boolean, ip: string | null = null) {
  const tenant = await tenantFor(deps, actor, slug);
  await authorize(deps, actor, 'read', 'tenant', { ip });
  if (!previewRequireAll) return { policy: tenant.policy };
  const affected = tenant.policy.require_two_factor_for_all_staff ? 0 : (await deps.accounts.staffWithoutTwoFactor(tenant.id)).length;
  return { policy: tenant.policy, affected_accounts: affected };
}

/**
 * docs/rules.md, rule 4: switching on the tenant-wide requirement takes effect at once, also for
 * staff signed in right now: every active staff account without 2FA has its sessions, grants and
 * refresh tokens ended (relying parties get a back-channel logout) and enrolls at its next login.
 */
export async function setPolicy(deps: AdminDependencies, actor: Actor, slug: string, patch: PolicyPatch, ip: string) {
  const tenant = await tenantFor(deps, actor, slug);
  await authorize(deps, actor, 'set_policy', 'tenant', { ip });
  const before = tenant.policy;
  const policy = mergePolicy(before, patch);
  await deps.tenants.updatePolicy(tenant.id, policy);
  let affected = 0;
  if (policy.require_two_factor_for_all_staff && !before.require_two_factor_for_all_staff) {
    const accounts = await deps.accounts.staffWithoutTwoFactor(tenant.id);
    // a few at a time: each may wait on relying parties' back-channel endpoints
    // (each is told why they are signed out and will enroll next time)
    for (let i = 0; i < accounts.length; i += 10) {
      await Promise.all(accounts.slice(i, i + 10).map(async (a) => {
        await deps.sessions.endAll(a.id);
        await notify(deps, a, 'two_factor_required');
      }));
    }
    affected = accounts.length;
  }
  await deps.audit.record({ type: 'tenant.policy_changed', tenantId: tenant.id, actor: actorName(actor), ip, details: { before, after: policy, affected_accounts: affected } });
  return { policy, affected_accounts: affected };
}

export async function twoFactorStats(deps: AdminDependencies, actor: Actor, slug: string, ip: string | null = null) {
  const tenant = await tenantFor(deps, actor, slug);
  await authorize(deps, actor, 'read', 'tenant', { ip });
  return deps.accounts.twoFactorStats(tenant.id);
}

export async function auditEvents(deps: AdminDependencies, actor: Actor, slug: string, filter: { account?: string; type?: string; since?: Date }, ip: string | null = null) {
  const tenant = await tenantFor(deps, actor, slug);
  await authorize(deps, actor, 'read', 'tenant', { ip });
  const events = await deps.audit.list({ tenantId: tenant.id, accountId: filter.account, type: filter.type, since: filter.since });
  return events.map((e) => ({ id: e.id, type: e.type, account: e.accountId, actor: e.actor, ip: e.ip, details: e.details, created_at: e.createdAt.toISOString() }));
}
