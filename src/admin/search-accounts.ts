import type { Actor } from '../policy/permissions.js';
import type { Pool } from '../policy/tenant-policy.js';
import { accountViews, type AccountView } from './account-view.js';
import { authorize, tenantFor, type AdminDependencies } from './context.js';

/** The admin console's lists: one page of a pool's accounts, optionally matching a text, and the number of matches. */
export async function searchAccounts(
  deps: AdminDependencies,
  actor: Actor,
  slug: string,
  filter: { pool: Pool; query?: string; offset: number; limit: number },
  ip: string | null = null,
): Promise<{ accounts: AccountView[]; total: number }> {
  const tenant = await tenantFor(deps, actor, slug);
  await authorize(deps, actor, 'read', filter.pool, { ip });
  const found = await deps.accounts.search(tenant.id, filter);
  return { accounts: await accountViews(deps, tenant, found.accounts), total: found.total };
}
