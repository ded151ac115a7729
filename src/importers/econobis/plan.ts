import type { Account, AccountStore, Role } from '../../stores/accounts.js';
import type { ImportMarks, ImportMarkStore } from '../../stores/import-marks.js';
import type { SecondFactorStore } from '../../stores/second-factors.js';
import type { Tenant } from '../../stores/tenants.js';
import type { Candidate, ImportedTwoFactor } from './rows.js';

/**
 * What an import does to each account and to the tenant policy, decided against what is stored.
 *
 * A part (profile, password, 2FA, policy) is taken from the export when it changed in Econobis
 * since the previous import (its fingerprint differs from the mark); a part unchanged there is left
 * as Sleutel has it, so a second run never undoes a rehash, a 2FA reset or an admin's change.
 * An account that existed before any import gets only what it lacks and nothing weaker: its
 * password and 2FA stay, and requirement flags and `disabled` can only be switched on.
 */
export type Change = 'created' | 'name' | 'roles' | 'disabled' | 'two_factor_required' | 'password' | 'two_factor_added' | 'two_factor_replaced' | 'two_factor_removed';

type Profile = { name?: string; roles?: Role[]; disabled?: boolean; twoFactorRequired?: boolean };

export interface AccountPlan {
  candidate: Candidate;
  accountId?: string;
  action: 'create' | 'update' | 'unchanged';
  changes: Change[];
  notes: string[];
  writes: {
    profile?: Profile;
    password?: string;
    twoFactor?: ImportedTwoFactor | 'remove';
  };
  marks: Partial<Candidate['fingerprints']>;
}

export interface PolicyPlan {
  from: boolean;
  to: boolean;
  mark: string;
}

export interface PlanStores {
  accounts: AccountStore;
  secondFactors: SecondFactorStore;
  marks: ImportMarkStore;
}

/** The mark's subject for the tenant policy (accounts are marked by their id). */
export const COOPERATION = 'cooperation';

export async function planAccounts(stores: PlanStores, tenant: Tenant, candidates: Candidate[]): Promise<AccountPlan[]> {
  const existing = new Map<Candidate, Account>();
  for (const c of candidates) {
    const account = await stores.accounts.findByEmail(tenant.id, c.pool, c.email);
    if (account) existing.set(c, account);
  }
  const marks = await stores.marks.forSubjects(tenant.id, [...existing.values()].map((a) => a.id));
  const plans: AccountPlan[] = [];
  for (const c of candidates) {
    const account = existing.get(c);
    plans.push(account ? await planUpdate(stores, c, account, marks) : planCreate(c));
  }
  return plans;
}

function planCreate(c: Candidate): AccountPlan {
  return {
    candidate: c,
    action: 'create',
    changes: ['created', ...(c.twoFactor ? (['two_factor_added'] as const) : [])],
    notes: c.notes,
    writes: { ...(c.twoFactor ? { twoFactor: c.twoFactor } : {}) },
    marks: c.fingerprints,
  };
}

async function planUpdate(stores: PlanStores, c: Candidate, account: Account, allMarks: ImportMarks): Promise<AccountPlan> {
  const marks = allMarks.get(account.id) ?? {};
  const plan: AccountPlan = { candidate: c, accountId: account.id, action: 'unchanged', changes: [], notes: [...c.notes], writes: {}, marks: {} };
  const changed = (part: keyof Candidate['fingerprints']) => marks[part] !== c.fingerprints[part];

  if (changed('profile')) {
    const first = marks.profile === undefined;
    const target = {
      name: c.name,
      roles: c.roles,
      disabled: first ? account.disabled || c.disabled : c.disabled,
      twoFactorRequired: first ? account.twoFactorRequired || c.twoFactorRequired : c.twoFactorRequired,
    };
    const profile: Profile = {};
    const set = <K extends keyof Profile>(key: K, value: Profile[K], change: Change) => {
      profile[key] = value;
      plan.changes.push(change);
    };
    if (target.name !== account.name) set('name', target.name, 'name');
    if ([...target.roles].sort().join() !== [...account.roles].sort().join()) set('roles', target.roles, 'roles');
    if (target.disabled !== account.disabled) set('disabled', target.disabled, 'disabled');
    if (target.twoFactorRequired !== account.twoFactorRequired) set('twoFactorRequired', target.twoFactorRequired, 'two_factor_required');
    if (Object.keys(profile).length) plan.writes.profile = profile;
    plan.marks.profile = c.fingerprints.profile;
  }

  if (changed('password')) {
    if (c.passwordHash !== null && marks.password === undefined && account.passwordHash) {
      plan.notes.push('kept the password the account already had in Sleutel');
    } else if (c.passwordHash !== null && c.passwordHash !== account.passwordHash) {
      plan.writes.password = c.passwordHash;
      plan.changes.push('password');
    }
    plan.marks.password = c.fingerprints.password;
  }

  if (changed('two_factor')) {
    const enabled = await stores.secondFactors.isEnabled(account.id);
    if (marks.two_factor === undefined && enabled) {
      if (c.twoFactor) plan.notes.push('kept the 2FA the account already had in Sleutel');
    } else if (c.twoFactor) {
      plan.writes.twoFactor = c.twoFactor;
      plan.changes.push(enabled ? 'two_factor_replaced' : 'two_factor_added');
    } else if (enabled) {
      plan.writes.twoFactor = 'remove';
      plan.changes.push('two_factor_removed');
    }
    plan.marks.two_factor = c.fingerprints.two_factor;
  }

  if (plan.changes.length) plan.action = 'update';
  return plan;
}

/** cooperations.require_two_factor_authentication → require_two_factor_for_all_staff, by the same rule. */
export async function planPolicy(marks: ImportMarkStore, tenant: Tenant, required: boolean | undefined): Promise<PolicyPlan | undefined> {
  if (required === undefined) return undefined;
  const mark = (await marks.forSubjects(tenant.id, [COOPERATION])).get(COOPERATION)?.policy;
  const fingerprint = String(required);
  if (mark === fingerprint) return undefined;
  const current = tenant.policy.require_two_factor_for_all_staff;
  return { from: current, to: mark === undefined ? current || required : required, mark: fingerprint };
}
