import type { Pool } from './tenant-policy.js';
import type { Role } from './roles.js';

/**
 * Who may do what through the management API (docs/rules.md § Role table), as data. A service
 * client acts with every right, for its own tenant only; a user acts with their roles.
 */
export type AdminAction = 'read' | 'manage_accounts' | 'require_two_factor' | 'reset_two_factor' | 'set_policy';

export type Actor =
  | { kind: 'service'; tenantId: string; clientId: string }
  | { kind: 'user'; tenantId: string; accountId: string; roles: Role[] };

const BOTH: Role[] = ['key_user', 'coop_admin'];

/** Roles allowed per action and target pool; an absent pool means "never" for users and services alike. */
const TABLE: Record<AdminAction, Partial<Record<Pool | 'tenant', Role[]>>> = {
  read: { staff: BOTH, portal: BOTH, tenant: BOTH },
  manage_accounts: { staff: ['key_user'], portal: BOTH },
  require_two_factor: { staff: ['key_user'] },
  reset_two_factor: { staff: ['key_user'], portal: BOTH },
  set_policy: { tenant: ['coop_admin'] },
};

export type Permission = 'allowed' | 'forbidden' | 'not_applicable';

/**
 * `target` is the pool of the account acted on, or 'tenant' for tenant-wide actions.
 * 'not_applicable' (the action does not exist for that pool, e.g. requiring 2FA of a portal user)
 * is refused for every actor, services included.
 */
export function permission(actor: Actor, action: AdminAction, target: Pool | 'tenant'): Permission {
  const roles = TABLE[action][target];
  if (!roles) return 'not_applicable';
  if (actor.kind === 'service') return 'allowed';
  return actor.roles.some((r) => roles.includes(r)) ? 'allowed' : 'forbidden';
}

/** docs/rules.md § Role table: a user's management token only for staff with a role whose login passed the second factor. */
export function mayReceiveManageScope(account: { pool: Pool; roles: Role[]; disabled: boolean }, acr: string | undefined, twoFactorAcr: string): boolean {
  return account.pool === 'staff' && account.roles.length > 0 && !account.disabled && acr === twoFactorAcr;
}
