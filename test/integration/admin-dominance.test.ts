import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type { Role } from '../../src/policy/roles.js';
import { Browser } from '../helpers/browser.js';
import { linkIn, Mailbox, type ReceivedMail } from '../helpers/mailbox.js';
import {
  apiFor,
  CodeClock,
  createAccount,
  createServiceClient,
  enable2fa,
  loginForManage,
  serviceToken,
  UserToken,
  type ApiAnswer,
  type ServiceClient,
} from '../helpers/manage.js';
import { useScenario } from '../helpers/scenario.js';
import { seedTenant, type SeededAccount } from '../helpers/seed.js';
import { storeModes } from '../helpers/stores.js';
import { passwordStep } from '../helpers/two-factor.js';

/**
 * The admin model attacked from the outside (docs/rules.md § Role table): the role table per pool,
 * and on top of it the dominance rule — an admin acts on an account only when they hold every role
 * it holds, hands out only roles they hold, and never changes their own roles, disabled flag or
 * second factor. Expected answers are written out below on their own (not read from src/policy)
 * and every (actor × target × action) is run against the running server.
 */

type ActorName = 'key_user' | 'coop_admin' | 'key_user+coop_admin' | 'service';
const ROLES_OF: Record<Exclude<ActorName, 'service'>, Role[]> = {
  key_user: ['key_user'],
  coop_admin: ['coop_admin'],
  'key_user+coop_admin': ['key_user', 'coop_admin'],
};
const ACTORS: ActorName[] = ['key_user', 'coop_admin', 'key_user+coop_admin', 'service'];

type TargetName = 'staff:none' | 'staff:key_user' | 'staff:coop_admin' | 'staff:key_user+coop_admin' | 'portal' | 'self' | 'other tenant';
const TARGETS: TargetName[] = ['staff:none', 'staff:key_user', 'staff:coop_admin', 'staff:key_user+coop_admin', 'portal', 'self', 'other tenant'];
const STAFF_ROLES: Record<string, Role[]> = { 'staff:none': [], 'staff:key_user': ['key_user'], 'staff:coop_admin': ['coop_admin'], 'staff:key_user+coop_admin': ['key_user', 'coop_admin'] };

type ActionName = 'rename' | 'change e-mail' | 'disable' | 'unblock' | 'require 2FA' | 'reset 2FA' | 'grant key_user' | 'grant coop_admin' | 'take all roles';
const ACTIONS: ActionName[] = ['rename', 'change e-mail', 'disable', 'unblock', 'require 2FA', 'reset 2FA', 'grant key_user', 'grant coop_admin', 'take all roles'];

/** The answer the model calls for. */
function expected(actor: ActorName, target: TargetName, action: ActionName): number {
  if (target === 'other tenant') return 404;
  if (target === 'self' && actor === 'service') return -1; // no such case
  const isRoleChange = action.startsWith('grant') || action === 'take all roles';
  if (target === 'portal') {
    if (action === 'require 2FA') return 422; // rule 5, for everyone
    if (isRoleChange && action !== 'take all roles') return 422; // portal accounts have no roles
    return 200; // key_user and coop_admin both manage portal accounts
  }
  if (actor === 'service') return 200;
  const mine = ROLES_OF[actor];
  // the role table: only key users manage staff accounts
  if (!mine.includes('key_user')) return 403;
  if (target === 'self') return ['rename', 'change e-mail', 'unblock'].includes(action) ? 200 : 403;
  const theirs = STAFF_ROLES[target]!;
  if (!theirs.every((r) => mine.includes(r))) return 403;
  if (action === 'grant coop_admin' && !mine.includes('coop_admin')) return 403;
  return 200;
}

function request(action: ActionName, path: string, n: number): { method: string; path: string; body?: unknown } {
  switch (action) {
    case 'rename': return { method: 'PATCH', path, body: { name: `Andere naam ${n}` } };
    case 'change e-mail': return { method: 'PATCH', path, body: { email: `nieuw-${n}@elders.example` } };
    case 'disable': return { method: 'PATCH', path, body: { disabled: true } };
    case 'unblock': return { method: 'POST', path: `${path}/unblock` };
    case 'require 2FA': return { method: 'PUT', path: `${path}/two-factor/requirement`, body: { required: true } };
    case 'reset 2FA': return { method: 'DELETE', path: `${path}/two-factor` };
    case 'grant key_user': return { method: 'PATCH', path, body: { roles: ['key_user'] } };
    case 'grant coop_admin': return { method: 'PATCH', path, body: { roles: ['coop_admin'] } };
    case 'take all roles': return { method: 'PATCH', path, body: { roles: [] } };
  }
}

const CASES = ACTORS.flatMap((actor) => TARGETS.flatMap((target) => ACTIONS.map((action) => ({ actor, target, action, status: expected(actor, target, action) }))))
  .filter((c) => c.status !== -1);

describe.each(storeModes)('the admin model under attack (%s)', (mode) => {
  let mailbox: Mailbox;
  beforeAll(async () => {
    mailbox = await Mailbox.start();
  });
  afterAll(() => mailbox.close());
  const s = useScenario(mode, { env: () => ({ SMTP_URL: mailbox.url }) });
  const clock = new CodeClock();
  let service: ServiceClient;
  const users = {} as Record<Exclude<ActorName, 'service'>, { account: SeededAccount; secret: string; token: UserToken }>;
  let other: { slug: string; tenantId: string };

  const api = async (actor: ActorName) => apiFor(s.server, actor === 'service' ? await serviceToken(s.server, service) : await users[actor].token.get());
  const stores = () => s.server.sleutel.stores;
  const accountPath = (slug: string, id: string) => `/tenants/${slug}/accounts/${id}`;

  beforeAll(async () => {
    service = await createServiceClient(s.server, s.seeded.tenantId);
    for (const actor of Object.keys(ROLES_OF) as (keyof typeof ROLES_OF)[]) {
      const account = await createAccount(s.server, s.seeded.tenantId, 'staff', ROLES_OF[actor], { prefix: actor.replace('+', '-') });
      const secret = await enable2fa(s.server, s.staffRp, account, clock);
      const { tokens } = await loginForManage(s.server, s.staffRp, account, () => clock.next(secret));
      users[actor] = { account, secret, token: new UserToken(s.server, s.staffRp, tokens as never) };
    }
    const seeded = await seedTenant(stores(), `ander${randomBytes(2).toString('hex')}`);
    other = { slug: seeded.slug, tenantId: seeded.tenantId };
  });

  /** What a refused request must leave exactly as it was. */
  const snapshot = async (id: string) => ({
    account: await stores().accounts.findById(id),
    enabled: await stores().secondFactors.isEnabled(id),
    locked: (await s.server.sleutel.flows.lockout.lockedFor(id)) > 0,
    pending: await s.server.sleutel.flows.emailChanges.pending(id),
    remembered: (await s.server.sleutel.flows.remembrances.list(id)).length,
  });

  describe('every actor × target × action', () => {
    let n = 0;
    test.each(CASES)('$actor → $target: $action → $status', async ({ actor, target, action, status }) => {
      n += 1;
      let id: string;
      let slug = s.seeded.slug;
      if (target === 'self') id = users[actor as keyof typeof ROLES_OF].account.id;
      else if (target === 'other tenant') {
        slug = other.slug;
        id = (await createAccount(s.server, other.tenantId, 'staff', [], { hashed: false })).id;
      } else {
        const pool = target === 'portal' ? 'portal' : 'staff';
        id = (await createAccount(s.server, s.seeded.tenantId, pool, STAFF_ROLES[target] ?? [], { hashed: false, prefix: `doel${n}` })).id;
      }
      // something for unblock and reset to undo
      for (let i = 0; i < 5; i += 1) await s.server.sleutel.flows.lockout.registerFailure(id);
      if (target !== 'self') await stores().secondFactors.enable(id, 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', 1, 'not-a-real-hash');
      if (target !== 'self') await s.server.sleutel.flows.remembrances.remember(id, randomBytes(32).toString('base64url'), 24);
      const refusals = () => stores().audit.list({ tenantId: s.seeded.tenantId, accountId: id, type: 'admin.refused' });
      const refusedBefore = (await refusals()).length;
      const before = await snapshot(id);
      // the attacker aims at the other tenant with a path of its own tenant's slug too: both 404
      const call = request(action, accountPath(slug, id), n);
      const answer: ApiAnswer = await (await api(actor))(call.method, call.path, call.body);
      expect({ status: answer.status, body: answer.body }).toMatchObject({ status });
      const after = await snapshot(id);
      if (status !== 200) {
        expect(after).toEqual(before);
        if (status === 403) {
          expect(answer.body).toEqual({ error: 'forbidden', error_description: expect.any(String) });
          const events = await refusals(); // newest first
          expect(events).toHaveLength(refusedBefore + 1);
          const actorName = actor === 'service' ? `client:${service.clientId}` : `account:${users[actor].account.id}`;
          expect(events[0]).toMatchObject({ actor: actorName, details: { reason: answer.body.error_description } });
        }
        return;
      }
      if (action === 'change e-mail') {
        expect(after.account!.email).toBe(before.account!.email);
        expect(answer.body.pending_email).toBe(`nieuw-${n}@elders.example`);
      }
      if (action === 'reset 2FA') expect(after.enabled).toBe(false);
      if (action === 'unblock') expect(after.locked).toBe(false);
      if (action === 'disable') {
        expect(after.account!.disabled).toBe(true);
        expect(await s.server.sleutel.flows.remembrances.list(id)).toEqual([]);
      }
      if (action === 'grant coop_admin') expect(after.account!.roles).toEqual(['coop_admin']);
      if (action === 'take all roles') expect(after.account!.roles).toEqual([]);
    });
  });

  describe('the takeover of the security report', () => {
    test('a key user can neither re-address a coop_admin nor reset their 2FA; the policy stays theirs', async () => {
      const admin = await createAccount(s.server, s.seeded.tenantId, 'staff', ['coop_admin'], { prefix: 'beheerder' });
      await stores().secondFactors.enable(admin.id, 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', 1, 'not-a-real-hash');
      const attacker = await api('key_user');
      const path = accountPath(s.seeded.slug, admin.id);

      const step1 = await attacker('PUT', `/tenants/${s.seeded.slug}/policy`, { remember_two_factor_hours: { staff: 720 } });
      expect(step1.status).toBe(403);
      const step2 = await attacker('PATCH', path, { email: 'attacker@evil.example' });
      expect(step2.status).toBe(403);
      expect(step2.body.error_description).toMatch(/holds a role you do not hold/);
      const step3 = await attacker('DELETE', `${path}/two-factor`);
      expect(step3.status).toBe(403);

      expect((await stores().accounts.findById(admin.id))!.email).toBe(admin.email);
      expect(await stores().secondFactors.isEnabled(admin.id)).toBe(true);
      expect(mailbox.mails.some((m) => m.to.includes('attacker@evil.example'))).toBe(false);
      expect((await stores().tenants.findById(s.seeded.tenantId))!.policy.remember_two_factor_hours.staff).toBe(24);
      const refused = await stores().audit.list({ tenantId: s.seeded.tenantId, type: 'admin.refused' });
      expect(refused.filter((e) => e.accountId === admin.id).map((e) => e.details?.change)).toEqual(expect.arrayContaining(['email', 'reset_two_factor']));
    });

    test('nobody hands out a role they lack: a key user cannot create a coop_admin', async () => {
      const answer = await (await api('key_user'))('POST', `/tenants/${s.seeded.slug}/accounts`, { pool: 'staff', email: `nieuw-admin-${randomBytes(3).toString('hex')}@zonnig.example`, roles: ['coop_admin'] });
      expect(answer.status).toBe(403);
      expect(answer.body.error_description).toMatch(/roles you hold yourself/);
    });
  });

  describe('an e-mail address changes only through a link to the new address', () => {
    const mailTo = (to: string, subject: RegExp) => mailbox.waitFor(to, (m: ReceivedMail) => subject.test(m.subject));

    test('the change waits for the link; the old address is told; reset mail keeps going to the old one', async () => {
      const target = await createAccount(s.server, s.seeded.tenantId, 'staff', [], { prefix: 'verhuist' });
      const newAddress = `verhuisd-${randomBytes(3).toString('hex')}@nieuw.example`;
      const answer = await (await api('key_user'))('PATCH', accountPath(s.seeded.slug, target.id), { email: newAddress });
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ email: target.email, pending_email: newAddress });
      expect((await stores().accounts.findById(target.id))!.email).toBe(target.email);

      const told = await mailTo(target.email, /Wijziging van uw e-mailadres/);
      expect(told.text).toContain(newAddress);
      const confirmMail = await mailTo(newAddress, /Bevestig uw nieuwe e-mailadres/);
      const link = linkIn(confirmMail, '/email/confirm?token=');

      // until confirmed the account is not found under the new address
      expect(await stores().accounts.findByEmail(s.seeded.tenantId, 'staff', newAddress)).toBeUndefined();

      // opening the link (a mail scanner does that too) changes nothing; the button does
      const browser = new Browser();
      const page = await browser.follow(link);
      expect(page.status).toBe(200);
      expect(page.body).toContain(newAddress);
      expect((await stores().accounts.findById(target.id))!.email).toBe(target.email);
      const forged = await browser.request(`${s.server.url}/email/confirm`, { method: 'POST', form: { token: new URL(link).searchParams.get('token')! } });
      expect(forged.status).toBe(403);
      const done = await browser.submit(page, {});
      expect(done.status).toBe(200);
      expect(done.body).toContain(newAddress);
      const changed = (await stores().accounts.findById(target.id))!;
      expect(changed).toMatchObject({ email: newAddress, emailVerified: true });
      const afterwards = await mailTo(target.email, /Uw e-mailadres is gewijzigd/);
      expect(afterwards.text).toContain(newAddress);

      // the link works once
      expect((await new Browser().follow(link)).status).toBe(400);
      const events = await stores().audit.list({ tenantId: s.seeded.tenantId, accountId: target.id });
      expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['account.email_change_requested', 'account.email_changed']));
    });

    test('a newer request replaces the older link; an address taken meanwhile is refused without using the link up', async () => {
      const target = await createAccount(s.server, s.seeded.tenantId, 'portal', [], { prefix: 'lid-verhuist', hashed: false });
      const svc = await api('service');
      const first = `eerste-${randomBytes(3).toString('hex')}@nieuw.example`;
      const second = `tweede-${randomBytes(3).toString('hex')}@nieuw.example`;
      expect((await svc('PATCH', accountPath(s.seeded.slug, target.id), { email: first })).status).toBe(200);
      const firstLink = linkIn(await mailTo(first, /Bevestig/), '/email/confirm?token=');
      expect((await svc('PATCH', accountPath(s.seeded.slug, target.id), { email: second })).status).toBe(200);
      const secondLink = linkIn(await mailTo(second, /Bevestig/), '/email/confirm?token=');
      expect((await new Browser().follow(firstLink)).status).toBe(400);

      // someone else takes the second address before the link is followed
      expect((await svc('POST', `/tenants/${s.seeded.slug}/accounts`, { pool: 'portal', email: second, invite: false })).status).toBe(201);
      const browser = new Browser();
      const page = await browser.follow(secondLink);
      const refused = await browser.submit(page, {});
      expect(refused.status).toBe(409);
      expect((await stores().accounts.findById(target.id))!.email).toBe(target.email);
      // and asking for an address in use is a 409 at once
      expect((await svc('PATCH', accountPath(s.seeded.slug, target.id), { email: second.toUpperCase() })).status).toBe(409);
    });
  });

  describe('the account holder is told of every admin action, in the language they last used', () => {
    test('disable, enable, unblock, require, un-require, reset, roles — each a mail in English for an English account', async () => {
      const target = await createAccount(s.server, s.seeded.tenantId, 'staff', [], { prefix: 'engels', hashed: false });
      await stores().accounts.update(target.id, { locale: 'en' });
      const svc = await api('service');
      const path = accountPath(s.seeded.slug, target.id);
      const steps: [string, () => Promise<unknown>, RegExp][] = [
        ['disable', () => svc('PATCH', path, { disabled: true }), /^Your account was disabled/],
        ['enable', () => svc('PATCH', path, { disabled: false }), /^Your account was enabled again/],
        ['unblock', async () => {
          for (let i = 0; i < 5; i += 1) await s.server.sleutel.flows.lockout.registerFailure(target.id);
          return svc('POST', `${path}/unblock`);
        }, /^You can sign in again/],
        ['require', () => svc('PUT', `${path}/two-factor/requirement`, { required: true }), /^Two-factor authentication is required/],
        ['un-require', () => svc('PUT', `${path}/two-factor/requirement`, { required: false }), /^Two-factor authentication is no longer required/],
        ['reset', () => svc('DELETE', `${path}/two-factor`), /reset/i],
        ['roles', () => svc('PATCH', path, { roles: ['key_user'] }), /^Your account details were changed/],
      ];
      for (const [name, act, subject] of steps) {
        const count = mailbox.mails.filter((m) => m.to.includes(target.email)).length;
        const answer = (await act()) as ApiAnswer;
        expect({ name, status: answer.status }).toEqual({ name, status: 200 });
        const mails = await (async () => {
          for (let i = 0; i < 50; i += 1) {
            const now = mailbox.mails.filter((m) => m.to.includes(target.email));
            if (now.length > count) return now.slice(count);
            await new Promise((r) => setTimeout(r, 100));
          }
          return [];
        })();
        expect({ name, subjects: mails.map((m) => m.subject) }).toEqual({ name, subjects: [expect.stringMatching(subject)] });
      }
    });

    test('a login with ui_locales=en records the language for later mails', async () => {
      const member = await createAccount(s.server, s.seeded.tenantId, 'portal', [], { prefix: 'taal' });
      expect((await stores().accounts.findById(member.id))!.locale).toBe('nl');
      const { next } = await passwordStep(new Browser('en'), s.portalRp, member, { ui_locales: 'en' });
      expect(s.portalRp.isCallback(next.url)).toBe(true);
      expect((await stores().accounts.findById(member.id))!.locale).toBe('en');
    });
  });
});
