import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { consolePage, signInToConsole } from '../helpers/admin-console.js';
import { call, CodeClock, createAccount, createServiceClient, serviceToken } from '../helpers/manage.js';
import { givePasskey, startPasskeyServer } from '../helpers/passkey-screens.js';
import type { Seeded } from '../helpers/seed.js';
import type { TestServer } from '../helpers/server.js';
import { SoftwareAuthenticator } from '../helpers/software-authenticator.js';
import { storeModes } from '../helpers/stores.js';

/** The admin console's user page shows which second factors an account has: kinds, and passkeys by name and dates (issue 21). */
describe.each(storeModes)('second factors on the admin console user page (%s)', (mode) => {
  let server: TestServer;
  let base: string;
  let seeded: Seeded;

  beforeAll(async () => {
    ({ server, base, seeded } = await startPasskeyServer(mode));
  });
  afterAll(() => server?.close());

  test('a staff account with a passkey: "passkey" among its factors, the passkey by name; no key on the page', async () => {
    const api = { ...server, url: base };
    const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
    await server.sleutel.stores.secondFactors.putImported(seeded.staff.id, { secret, confirmedAt: new Date(), lastTimeStep: 0, recoveryCodeHash: null });
    const { browser } = await signInToConsole(api, seeded.slug, seeded.staff, { clock: new CodeClock(), secret });
    const target = await createAccount(api, seeded.tenantId, 'staff', [], { prefix: 'sleutelbos' });
    const credential = await givePasskey(server, base, target.id, new SoftwareAuthenticator(), 'YubiKey Piet');

    const page = await consolePage(api, browser, seeded.slug, `/users/${target.id}`);
    expect(page.status).toBe(200);
    expect(page.html().querySelector('.admin-factors')?.text.trim()).toBe('passkey');
    expect(page.html().querySelector('.admin-passkey')?.text).toContain('YubiKey Piet');
    expect(page.body).not.toContain(credential.id);
  });

  test('a staff account whose only factor is a passkey counts as with 2FA in the statistics and the tenant-wide requirement', async () => {
    const api = { ...server, url: base };
    const token = await serviceToken(api, await createServiceClient(api, seeded.tenantId));
    const stats = async () => (await call(api, token, 'GET', `/tenants/${seeded.slug}/two-factor/stats`)).body.staff;
    const preview = async () => (await call(api, token, 'GET', `/tenants/${seeded.slug}/policy?preview=require_two_factor_for_all_staff`)).body.affected_accounts;
    const target = await createAccount(api, seeded.tenantId, 'staff', [], { prefix: 'alleen-passkey' });
    const [before, affectedBefore] = [await stats(), await preview()];
    await givePasskey(server, base, target.id, new SoftwareAuthenticator());
    const after = await stats();
    expect(after.with_two_factor).toBe(before.with_two_factor + 1);
    expect(after.without_two_factor).toBe(before.without_two_factor - 1);
    expect(await preview()).toBe(affectedBefore - 1);
  });
});
