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
  /** which second factors the account has, never their secrets or keys */
  second_factors: SecondFactorsView;
}

export interface SecondFactorsView {
  kinds: ('totp' | 'passkey' | 'recovery_code')[];
  passkeys: { id: string; name: string; created_at: string; last_used_at: string | null }[];
}

const KIND_OF_TABLE: Record<string, SecondFactorsView['kinds'][number]> = { totp_credentials: 'totp', passkey_credentials: 'passkey', recovery_codes: 'recovery_code' };
const KIND_ORDER: SecondFactorsView['kinds'] = ['totp', 'passkey', 'recovery_code'];

/** The factors of these accounts in two queries per page, whatever its length. */
async function secondFactorsViews(deps: AdminDependencies, accountIds: string[]): Promise<Map<string, SecondFactorsView>> {
  const [tables, passkeys] = await Promise.all([deps.secondFactors.tablesAmong(accountIds), deps.passkeys.listByAccounts(accountIds)]);
  return new Map(
    accountIds.map((id) => {
      const kinds = new Set([...(tables.get(id) ?? [])].map((t) => KIND_OF_TABLE[t]).filter((k) => k !== undefined));
      const own = passkeys.filter((p) => p.accountId === id);
      return [id, { kinds: KIND_ORDER.filter((k) => kinds.has(k)), passkeys: own.map((p) => ({ id: p.id, name: p.name, created_at: p.createdAt.toISOString(), last_used_at: p.lastUsedAt?.toISOString() ?? null })) }];
    }),
  );
}

export async function accountViews(deps: AdminDependencies, tenant: Tenant, accounts: Account[]): Promise<AccountView[]> {
  const ids = accounts.map((a) => a.id);
  const [enabled, factors] = await Promise.all([deps.secondFactors.enabledAmong(ids), secondFactorsViews(deps, ids)]);
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
        second_factors: factors.get(account.id)!,
      };
    }),
  );
}

export async function accountView(deps: AdminDependencies, tenant: Tenant, account: Account): Promise<AccountView> {
  const [[view], pending] = await Promise.all([accountViews(deps, tenant, [account]), deps.emailChanges.pending(account.id)]);
  return pending ? { ...view!, pending_email: pending } : view!;
}
