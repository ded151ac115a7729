import type { AdminDependencies } from './context.js';
import { twoFactorRequirement, type RequiredBy } from '../policy/second-factor.js';
import type { Account } from '../stores/accounts.js';
import type { Tenant } from '../stores/tenants.js';

/** An account as the management API shows it (docs/architecture.md § Contracts). */
export interface AccountView {
  id: string;
  pool: 'staff' | 'portal';
  email: string;
  name: string;
  roles: string[];
  disabled: boolean;
  two_factor: { enabled: boolean; required: boolean; required_by: RequiredBy };
  locked_for_seconds: number;
  /** a new address waiting for its confirmation link (single-account views only) */
  pending_email?: string;
}

export async function accountViews(deps: AdminDependencies, tenant: Tenant, accounts: Account[]): Promise<AccountView[]> {
  const enabled = await deps.secondFactors.enabledAmong(accounts.map((a) => a.id));
  return Promise.all(
    accounts.map(async (account) => {
      const requirement = twoFactorRequirement(account.pool, tenant.policy, account.twoFactorRequired);
      return {
        id: account.id,
        pool: account.pool,
        email: account.email,
        name: account.name,
        roles: account.roles,
        disabled: account.disabled,
        two_factor: { enabled: enabled.has(account.id), required: requirement.required, required_by: requirement.requiredBy },
        locked_for_seconds: await deps.lockout.lockedFor(account.id),
      };
    }),
  );
}

export async function accountView(deps: AdminDependencies, tenant: Tenant, account: Account): Promise<AccountView> {
  const [[view], pending] = await Promise.all([accountViews(deps, tenant, [account]), deps.emailChanges.pending(account.id)]);
  return pending ? { ...view!, pending_email: pending } : view!;
}
