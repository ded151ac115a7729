import { describe, expect, test } from '@jest/globals';
import { adminClientId, adminRedirectUri, ensureAdminClient } from '../../src/oidc/admin-client.js';
import { useScenario } from '../helpers/scenario.js';
import { storeModes } from '../helpers/stores.js';

/** The console's built-in client of a tenant follows the issuer: registered once, moved when ISSUER changes. */
describe.each(storeModes)('the admin console client (%s)', (mode) => {
  const s = useScenario(mode);

  test('registered at the first sign-in; after a change of ISSUER its callback moves along instead of failing', async () => {
    const { clients } = s.server.sleutel.stores;
    const tenant = { id: s.seeded.tenantId, slug: s.seeded.slug };
    const old = 'https://oud.example';
    expect(await ensureAdminClient(clients, tenant, old)).toBe(adminClientId(tenant.slug));
    expect((await clients.find(adminClientId(tenant.slug)))!.redirectUris).toEqual([adminRedirectUri(old, tenant.slug)]);

    await ensureAdminClient(clients, tenant, s.server.url);
    expect((await clients.find(adminClientId(tenant.slug)))!.redirectUris).toEqual([adminRedirectUri(s.server.url, tenant.slug)]);
  });

  test('an id of that shape held by another tenant is never taken over', async () => {
    const { clients, tenants } = s.server.sleutel.stores;
    const other = await tenants.create({ slug: 'anders', name: 'Anders' });
    await clients.create({ clientId: adminClientId('kaping'), tenantId: other.id, pool: 'staff', redirectUris: ['https://rp.example/cb'], postLogoutRedirectUris: [] });
    await expect(ensureAdminClient(clients, { id: s.seeded.tenantId, slug: 'kaping' }, s.server.url)).rejects.toThrow(/not the admin console's client/);
    expect((await clients.find(adminClientId('kaping')))!.redirectUris).toEqual(['https://rp.example/cb']);
  });
});
