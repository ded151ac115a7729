import type { Role } from './roles.js';

/**
 * What an admin may do to one particular account, beyond what the role table allows per pool.
 * The role table says a key user manages staff accounts; on its own it would let a key user take
 * over a coop_admin (change the address, reset the second factor, reset the password by mail).
 * So a user acts on an account only when they hold every role that account holds (they
 * "dominate" it), and grants or takes only roles they hold themselves. Some changes nobody makes
 * to their own account through the admin API. A service client keeps every right in its tenant.
 */
export type AccountChange =
  | 'name'
  | 'email'
  | 'roles'
  | 'disabled'
  | 'unblock'
  | 'reset_two_factor'
  | 'require_two_factor';

export const ACCOUNT_CHANGES: readonly AccountChange[] = ['name', 'email', 'roles', 'disabled', 'unblock', 'reset_two_factor', 'require_two_factor'];

/** Policy as data: whether the change needs the actor to dominate the target, and whether it may be made to oneself. */
const CHANGES: Record<AccountChange, { onSelf: boolean }> = {
  name: { onSelf: true },
  // confirmed by a link to the new address before it takes effect, for oneself too
  email: { onSelf: true },
  roles: { onSelf: false },
  // disabling oneself locks the last admin out; enabling oneself cannot happen (a disabled account has no token)
  disabled: { onSelf: false },
  unblock: { onSelf: true },
  reset_two_factor: { onSelf: false },
  require_two_factor: { onSelf: false },
};

export type ChangeActor = { kind: 'service' } | { kind: 'user'; accountId: string; roles: readonly Role[] };

export type ChangeVerdict = { allowed: true } | { allowed: false; reason: 'own_account' | 'target_outranks' | 'role_not_held' };

/**
 * May `actor` make `change` to `target`? For a role change, `newRoles` are the roles the target
 * would hold afterwards: every role added or taken must be one the actor holds.
 */
export function mayChangeAccount(
  actor: ChangeActor,
  change: AccountChange,
  target: { id: string; roles: readonly Role[] },
  newRoles?: readonly Role[],
): ChangeVerdict {
  if (actor.kind === 'service') return { allowed: true };
  if (target.id === actor.accountId && !CHANGES[change].onSelf) return { allowed: false, reason: 'own_account' };
  const holds = (role: Role) => actor.roles.includes(role);
  if (!target.roles.every(holds)) return { allowed: false, reason: 'target_outranks' };
  if (newRoles && !newRoles.every(holds)) return { allowed: false, reason: 'role_not_held' };
  return { allowed: true };
}

/** The reason in words, for the 403's description and the audit event. */
export const REFUSAL_TEXT: Record<Exclude<ChangeVerdict, { allowed: true }>['reason'], string> = {
  own_account: 'you cannot make this change to your own account',
  target_outranks: 'this account holds a role you do not hold',
  role_not_held: 'you can only grant or take roles you hold yourself',
};
