import { describe, expect, test } from '@jest/globals';
import { ACCOUNT_CHANGES, mayChangeAccount, type AccountChange } from '../../src/policy/dominance.js';
import type { Role } from '../../src/policy/roles.js';

/**
 * The dominance rule as a truth table, written out here on its own (not derived from the module):
 * a user acts on an account only when they hold every role it holds; roles, disabled and the
 * second factor never on their own account; a service client always.
 */
const ROLE_SETS: Role[][] = [[], ['key_user'], ['coop_admin'], ['key_user', 'coop_admin']];
const name = (roles: Role[]) => roles.join('+') || 'none';
const NEVER_ON_SELF: AccountChange[] = ['roles', 'disabled', 'reset_two_factor', 'require_two_factor'];

describe('dominance: every actor role set × target role set × change', () => {
  const cases = ROLE_SETS.flatMap((actor) => ROLE_SETS.flatMap((target) => ACCOUNT_CHANGES.map((change) => ({ actor, target, change }))));
  test.each(cases.map((c) => [name(c.actor), name(c.target), c.change, c] as const))('%s on %s: %s', (_a, _t, _c, { actor, target, change }) => {
    const holdsAll = target.every((r) => actor.includes(r));
    const verdict = mayChangeAccount({ kind: 'user', accountId: 'actor', roles: actor }, change, { id: 'target', roles: target });
    expect(verdict).toEqual(holdsAll ? { allowed: true } : { allowed: false, reason: 'target_outranks' });
  });

  test('the takeover of the issue: a key user may neither change a coop_admin’s address nor reset their 2FA', () => {
    const keyUser = { kind: 'user' as const, accountId: 'k', roles: ['key_user'] as Role[] };
    const coopAdmin = { id: 'c', roles: ['coop_admin'] as Role[] };
    expect(mayChangeAccount(keyUser, 'email', coopAdmin)).toEqual({ allowed: false, reason: 'target_outranks' });
    expect(mayChangeAccount(keyUser, 'reset_two_factor', coopAdmin)).toEqual({ allowed: false, reason: 'target_outranks' });
    // a coop_admin who is a key user too stays below a key user: a key user lacks coop_admin
    expect(mayChangeAccount(keyUser, 'unblock', { id: 'both', roles: ['key_user', 'coop_admin'] })).toEqual({ allowed: false, reason: 'target_outranks' });
  });
});

describe('dominance: one’s own account', () => {
  test.each(ACCOUNT_CHANGES.map((c) => [c]))('%s', (change) => {
    const me = { kind: 'user' as const, accountId: 'me', roles: ['key_user', 'coop_admin'] as Role[] };
    const verdict = mayChangeAccount(me, change, { id: 'me', roles: me.roles });
    expect(verdict).toEqual(NEVER_ON_SELF.includes(change) ? { allowed: false, reason: 'own_account' } : { allowed: true });
  });
});

describe('dominance: granting and taking roles', () => {
  const grants: [Role[], Role[], Role[], boolean][] = [
    // actor, target now, target after, allowed
    [['key_user'], [], ['key_user'], true],
    [['key_user'], [], ['coop_admin'], false],
    [['key_user'], [], ['key_user', 'coop_admin'], false],
    [['key_user'], ['key_user'], [], true],
    [['coop_admin'], [], ['coop_admin'], true],
    [['key_user', 'coop_admin'], ['coop_admin'], [], true],
    [['key_user', 'coop_admin'], [], ['key_user', 'coop_admin'], true],
  ];
  test.each(grants)('%j: %j → %j allowed %s', (actor, now, after, allowed) => {
    const verdict = mayChangeAccount({ kind: 'user', accountId: 'a', roles: actor }, 'roles', { id: 't', roles: now }, after);
    expect(verdict.allowed).toBe(allowed);
  });

  test('a service client may make every change, to every account', () => {
    for (const change of ACCOUNT_CHANGES) {
      for (const roles of ROLE_SETS) expect(mayChangeAccount({ kind: 'service' }, change, { id: 't', roles }, ['key_user', 'coop_admin'])).toEqual({ allowed: true });
    }
  });
});
