import { hashPassword } from '../../src/factors/password.js';
import type { Stores } from '../../src/stores/open.js';
import type { Pool } from '../../src/policy/tenant-policy.js';
import { randomPassword } from './server.js';

export interface SeededClient {
  clientId: string;
  secret?: string;
  redirectUri: string;
  postLogoutRedirectUri: string;
}

export interface SeededAccount {
  id: string;
  email: string;
  password: string;
}

export interface Seeded {
  tenantId: string;
  slug: string;
  staffClient: SeededClient;
  portalClient: SeededClient;
  staff: SeededAccount;
  portal: SeededAccount;
}

/** One cooperative with an Econobis-like confidential client, a portal public client, and an account in each pool. */
export async function seedTenant(stores: Stores, slug = 'zonnig', baseUrl = 'https://rp.example'): Promise<Seeded> {
  const tenant = await stores.tenants.create({ slug, name: `Coöperatie ${slug}` });
  const client = async (pool: Pool, secret?: string): Promise<SeededClient> => {
    const c = {
      clientId: `${slug}-${pool}`,
      secret,
      redirectUri: `${baseUrl}/${pool}/callback`,
      postLogoutRedirectUri: `${baseUrl}/${pool}/signed-out`,
    };
    await stores.clients.create({ clientId: c.clientId, tenantId: tenant.id, pool, secret, redirectUris: [c.redirectUri], postLogoutRedirectUris: [c.postLogoutRedirectUri] });
    return c;
  };
  const account = async (pool: Pool, email: string): Promise<SeededAccount> => {
    const password = randomPassword();
    const created = await stores.accounts.create({
      tenantId: tenant.id,
      pool,
      email,
      name: `Naam ${pool}`,
      passwordHash: await hashPassword(password),
      roles: pool === 'staff' ? ['key_user'] : [],
      emailVerified: true,
    });
    return { id: created.id, email, password };
  };
  return {
    tenantId: tenant.id,
    slug,
    staffClient: await client('staff', `secret-${slug}-0123456789abcdefghijklmnopq`),
    portalClient: await client('portal'),
    staff: await account('staff', `medewerker@${slug}.example`),
    portal: await account('portal', `lid@${slug}.example`),
  };
}

/** The two form fields of a login, from a seeded account. */
export const credentials = (account: SeededAccount) => ({ email: account.email, password: account.password });
