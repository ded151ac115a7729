import { describe, expect, test } from '@jest/globals';
import { verifyPassword } from '../../src/factors/password.js';
import { hashRecoveryCode } from '../../src/factors/recovery-code.js';
import { ImportFailure, importEconobis, type ImportReport } from '../../src/importers/econobis/import-econobis.js';
import type { Database } from '../../src/stores/database.js';
import { Browser } from '../helpers/browser.js';
import { buildEconobisExport, twoFactorColumns, type EconobisPerson } from '../helpers/econobis-export.js';
import { laravelBcrypt, newAppKey, appKeyText } from '../helpers/laravel.js';
import { useScenario } from '../helpers/scenario.js';
import { storeModes } from '../helpers/stores.js';
import { totp } from '../helpers/totp.js';
import { passwordStep } from '../helpers/two-factor.js';

/**
 * `sleutel import econobis` called directly (the CLI is in econobis-import-cli.test.ts): a dry run,
 * the import, logins with what Econobis's users know (old password, code from their app, recovery
 * code), a second import that changes nothing, a later one that takes over what changed in Econobis.
 * The tests of a mode build on each other and run in order.
 */

const ARGON2ID = /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/;

/** Every table an import writes, in a stable order: to show that a run wrote nothing. */
async function tableContents(db: Database) {
  const contents: Record<string, unknown[]> = {};
  for (const [table, order] of [
    ['tenants', ['id']],
    ['accounts', ['id']],
    ['totp_credentials', ['account_id']],
    ['recovery_codes', ['account_id']],
    ['import_marks', ['subject', 'part']],
    ['audit_events', ['id']],
  ] as const) {
    contents[table] = await db(table).orderBy([...order]);
  }
  return contents;
}

/** passwordStep only types the e-mail address and password in. */
const loginOf = (who: EconobisPerson) => ({ id: '', email: who.email, password: who.password });

const byEmail = (report: ImportReport) => Object.fromEntries(report.accounts.map((a) => [`${a.pool}:${a.email.toLowerCase()}`, a]));

describe.each(storeModes)('importing an Econobis export (%s)', (mode) => {
  const s = useScenario(mode);
  const key = newAppKey();
  const { file, people } = buildEconobisExport(key);
  const run = (options: { dryRun?: boolean; appKey?: string; file?: unknown } = {}) =>
    importEconobis(s.server.sleutel.stores, { tenantSlug: 'zonnig', file: options.file ?? file, appKey: options.appKey ?? appKeyText(key), dryRun: options.dryRun ?? false });
  const db = () => s.server.sleutel.stores.db;
  const account = async (pool: 'staff' | 'portal', who: EconobisPerson) => (await s.server.sleutel.stores.accounts.findByEmail(s.seeded.tenantId, pool, who.email))!;

  test('a dry run reports every row, the broken ones with their reason, and writes nothing', async () => {
    const before = await tableContents(db());
    const report = await run({ dryRun: true });
    expect(await tableContents(db())).toEqual(before);

    expect(report.dry_run).toBe(true);
    expect(report.counts).toEqual({ staff: { create: 4, update: 1, unchanged: 0, refused: 5 }, portal: { create: 3, update: 0, unchanged: 0, refused: 0 } });
    expect(report.policy).toEqual({ require_two_factor_for_all_staff: { from: false, to: true } });
    const accounts = byEmail(report);
    expect(accounts['staff:anna@zonnig.example']).toMatchObject({ action: 'create', changes: ['created', 'two_factor_added'] });
    expect(accounts['staff:carla@zonnig.example']!.notes).toEqual([expect.stringMatching(/never confirmed/)]);
    // the account that was in Sleutel already keeps its password
    expect(accounts['staff:medewerker@zonnig.example']).toMatchObject({ action: 'update', changes: ['name'], notes: [expect.stringMatching(/kept the password/)] });

    const refused = Object.fromEntries(report.refused.map((r) => [r.econobis_id, r.reason]));
    expect(refused).toEqual({
      4: expect.stringMatching(/^two_factor_recovery_codes: the MAC is invalid/),
      5: expect.stringMatching(/^unknown role "Medewerker"/),
      6: expect.stringMatching(/^duplicate e-mail address: also used by #7/),
      7: expect.stringMatching(/^duplicate e-mail address: also used by #6/),
      8: expect.stringMatching(/^email: is not an e-mail address/),
    });
  });

  test('the import creates the accounts with their bcrypt hashes, roles, flags and second factors', async () => {
    const report = await run();
    expect(report.dry_run).toBe(false);
    expect(report.counts.staff).toEqual({ create: 4, update: 1, unchanged: 0, refused: 5 });

    const anna = await account('staff', people.anna);
    expect(anna).toMatchObject({ email: 'anna@zonnig.example' /* the canonical form */, name: 'Anna de Vries', roles: ['key_user', 'coop_admin'], twoFactorRequired: true, disabled: false, emailVerified: true });
    expect(anna.passwordHash).toMatch(/^\$2y\$10\$/);
    const totpRow = await db()('totp_credentials').where({ account_id: anna.id }).first();
    expect(totpRow.secret_sealed).not.toContain(people.anna.secret);
    expect((await s.server.sleutel.stores.secondFactors.findTotp(anna.id))?.secret).toBe(people.anna.secret);
    expect(new Date(totpRow.confirmed_at).toISOString()).toBe('2025-03-14T09:26:53.000Z');
    expect(await s.server.sleutel.stores.secondFactors.recoveryCodeHash(anna.id)).toBe(hashRecoveryCode(people.anna.recoveryCode!));

    expect(await account('staff', people.bram)).toMatchObject({ roles: [], twoFactorRequired: false, disabled: false });
    expect(await account('staff', people.oud)).toMatchObject({ disabled: true });
    for (const who of [people.bram, people.carla]) expect(await s.server.sleutel.stores.secondFactors.isEnabled((await account('staff', who)).id)).toBe(false);
    const mia = await account('staff', people.mia);
    expect(mia).toMatchObject({ id: s.seeded.staff.id, name: 'Mia Medewerker', roles: ['key_user'] });
    expect(await verifyPassword(mia.passwordHash, s.seeded.staff.password)).toBe(true);

    // the same address in both pools: two accounts with their own passwords
    const annaPortal = await account('portal', people.annaPortal);
    expect(annaPortal.id).not.toBe(anna.id);
    expect(annaPortal.roles).toEqual([]);
    expect(await s.server.sleutel.stores.secondFactors.isEnabled((await account('portal', people.lid1)).id)).toBe(true);

    expect((await s.server.sleutel.stores.tenants.findById(s.seeded.tenantId))!.policy.require_two_factor_for_all_staff).toBe(true);
    expect(Number((await db()('audit_events').where({ type: 'account.imported' }).count({ n: '*' }))[0]!.n)).toBe(8);
  });

  test('the old password and a code from the imported secret sign in; the hash is argon2id afterwards', async () => {
    const browser = new Browser();
    const { request, next } = await passwordStep(browser, s.staffRp, loginOf(people.anna));
    expect(next.html().querySelector('input[name=code]')).not.toBeNull();
    const callback = await browser.submit(next, { code: totp(people.anna.secret!) }, s.staffRp.isCallback);
    expect(s.staffRp.isCallback(callback.url)).toBe(true);
    const tokens = await s.staffRp.exchange(callback.url, request);
    expect(tokens.claims()).toMatchObject({ acr: 'urn:sleutel:acr:2fa', amr: ['pwd', 'otp'], roles: ['key_user', 'coop_admin'] });

    const anna = await account('staff', people.anna);
    expect(anna.passwordHash).toMatch(ARGON2ID);
    expect(await verifyPassword(anna.passwordHash, people.anna.password)).toBe(true);

    // the portal account of the same address has its own (old) password, and no 2FA
    const member = await s.portalRp.login(new Browser(), { email: people.annaPortal.email, password: people.annaPortal.password });
    expect(member.tokens.claims()).toMatchObject({ acr: 'urn:sleutel:acr:pwd', pool: 'portal' });
    expect((await account('portal', people.annaPortal)).passwordHash).toMatch(ARGON2ID);
  });

  test('the first recovery code Econobis showed signs in once, typed in any case', async () => {
    const browser = new Browser();
    const { request, next: challenge } = await passwordStep(browser, s.portalRp, loginOf(people.lid1));
    expect(challenge.html().querySelector('input[name=code]')).not.toBeNull();
    const link = challenge.html().querySelectorAll('a').find((a) => (a.getAttribute('href') ?? '').endsWith('/recovery'));
    const recovery = await browser.follow(new URL(link!.getAttribute('href')!, challenge.url).href);
    expect(recovery.html().querySelector('form[action$="/recovery"] input[name=recovery_code]')).not.toBeNull();
    const enroll = await browser.submit(recovery, { recovery_code: people.lid1.recoveryCode!.toLowerCase() }, s.portalRp.isCallback);
    expect(enroll.status).toBe(200);
    // docs/rules.md, rule 8: 2FA is reset and enrollment offered; the member may skip it
    const skipped = await browser.submit(enroll, {}, s.portalRp.isCallback, '/enroll/skip');
    expect((await s.portalRp.exchange(skipped.url, request)).claims()).toMatchObject({ amr: ['pwd', 'rec'] });

    const lid1 = await account('portal', people.lid1);
    expect(await s.server.sleutel.stores.secondFactors.isEnabled(lid1.id)).toBe(false);
    expect(await s.server.sleutel.stores.secondFactors.consumeRecoveryCode(lid1.id, hashRecoveryCode(people.lid1.recoveryCode!))).toBe(false);
  });

  test('a second import changes nothing: not the rehashed password, nor the reset 2FA', async () => {
    const before = await tableContents(db());
    const report = await run();
    expect(await tableContents(db())).toEqual(before);
    expect(report.counts).toEqual({ staff: { create: 0, update: 0, unchanged: 5, refused: 5 }, portal: { create: 0, update: 0, unchanged: 3, refused: 0 } });
    expect(report.policy).toBeNull();
  });

  test('what changed in Econobis since is taken over; what changed only in Sleutel stays', async () => {
    const carla2fa = twoFactorColumns(key);
    const newPassword = 'nieuw-in-econobis-42';
    const changed = structuredClone(file);
    const rows = Object.fromEntries(changed.users.map((u) => [u.id as number, u]));
    rows[1]!.name = 'Anna Jansen';
    rows[2]!.password = laravelBcrypt(newPassword);
    Object.assign(rows[3]!, carla2fa.columns);

    const report = await run({ file: changed });
    const accounts = byEmail(report);
    expect(accounts['staff:anna@zonnig.example']).toMatchObject({ action: 'update', changes: ['name'] });
    expect(accounts['staff:bram@zonnig.example']).toMatchObject({ action: 'update', changes: ['password'] });
    expect(accounts['staff:carla@zonnig.example']).toMatchObject({ action: 'update', changes: ['two_factor_added'] });
    expect(report.counts.portal).toEqual({ create: 0, update: 0, unchanged: 3, refused: 0 });

    expect((await account('staff', people.anna)).passwordHash).toMatch(ARGON2ID);
    expect(await verifyPassword((await account('staff', people.bram)).passwordHash, newPassword)).toBe(true);
    expect((await s.server.sleutel.stores.secondFactors.findTotp((await account('staff', people.carla)).id))?.secret).toBe(carla2fa.secret);
    expect(await s.server.sleutel.stores.secondFactors.isEnabled((await account('portal', people.lid1)).id)).toBe(false);
  });

  test('without the APP_KEY, or with one that fits nothing, the import stops before writing', async () => {
    const before = await tableContents(db());
    await expect(run({ appKey: appKeyText(newAppKey()) })).rejects.toThrow(/APP_KEY does not fit this export/);
    await expect(importEconobis(s.server.sleutel.stores, { tenantSlug: 'zonnig', file, dryRun: false })).rejects.toThrow(ImportFailure);
    await expect(run({ appKey: 'base64:dGVzdA==' })).rejects.toThrow(/32 bytes/);
    await expect(run({ file: { ...file, format: 'something-else' } })).rejects.toThrow(/not an Econobis export: format/);
    await expect(importEconobis(s.server.sleutel.stores, { tenantSlug: 'bestaat-niet', file, appKey: appKeyText(key), dryRun: false })).rejects.toThrow(/tenant "bestaat-niet"/);
    expect(await tableContents(db())).toEqual(before);
  });

  test('a failure halfway leaves nothing half-imported', async () => {
    const before = await tableContents(db());
    // an update and a new account, then a row the database refuses (a constraint made for this test)
    const failing = structuredClone(file);
    failing.users[0]!.name = 'Anna Halverwege';
    failing.portal_users.push({ ...failing.portal_users[1]!, id: 104, email: 'nieuw@zonnig.example' });
    failing.portal_users.push({ ...failing.portal_users[1]!, id: 105, email: 'weigert@zonnig.example' });
    await db().raw(`alter table accounts add constraint test_refuses_one check (email <> 'weigert@zonnig.example')`);
    try {
      await expect(run({ file: failing })).rejects.toThrow(/test_refuses_one/);
    } finally {
      await db().raw('alter table accounts drop constraint test_refuses_one');
    }
    expect(await tableContents(db())).toEqual(before);
  });
});
