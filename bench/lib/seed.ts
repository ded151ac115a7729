import { randomBytes } from 'node:crypto';
import { hashPassword } from '../../src/factors/password.js';
import { hashRecoveryCode, newRecoveryCode } from '../../src/factors/recovery-code.js';
import { newTotpSecret } from '../../src/factors/totp.js';
import type { Stores } from '../../src/stores/open.js';

export interface BenchSeed {
  tenantId: string;
  password: string;
  staffClient: { clientId: string; secret: string; redirectUri: string };
  serviceClient: { clientId: string; secret: string };
  accounts: { id: string; email: string; secret: string }[];
  /** staff accounts without a second factor (the tenant does not require one): password-only logins */
  passwordOnly: { id: string; email: string }[];
}

/**
 * A cooperative with a confidential staff client, a service client, and `count` staff accounts
 * with 2FA enabled, written through the stores (as `sleutel user add` and the enrollment would).
 * One password for all, hashed once: seeding thousands of accounts must not take minutes of argon2.
 * Each TOTP credential starts at time step 0, so any current code is accepted once per account.
 * `passwordOnly` more accounts of the same pool have no second factor.
 */
export async function seed(stores: Stores, count: number, passwordOnlyCount: number, redirectUri: string): Promise<BenchSeed> {
  const tenant = await stores.tenants.create({ slug: 'bench', name: 'Benchmark Energiecoöperatie' });
  const password = `bench-${randomBytes(12).toString('base64url')}`;
  const passwordHash = await hashPassword(password);
  const staffClient = { clientId: 'bench-staff', secret: randomBytes(24).toString('base64url'), redirectUri };
  await stores.clients.create({ clientId: staffClient.clientId, tenantId: tenant.id, pool: 'staff', secret: staffClient.secret, redirectUris: [redirectUri], postLogoutRedirectUris: [] });
  const serviceClient = { clientId: 'bench-service', secret: randomBytes(24).toString('base64url') };
  await stores.clients.create({ clientId: serviceClient.clientId, tenantId: tenant.id, pool: null, secret: serviceClient.secret, redirectUris: [], postLogoutRedirectUris: [] });

  const accounts: BenchSeed['accounts'] = new Array(count);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const email = `lid-${i}@bench.example`;
      const account = await stores.accounts.create({ tenantId: tenant.id, pool: 'staff', email, name: `Lid ${i}`, passwordHash, roles: ['key_user'], emailVerified: true });
      const secret = newTotpSecret();
      await stores.secondFactors.enable(account.id, secret, 0, hashRecoveryCode(newRecoveryCode()));
      accounts[i] = { id: account.id, email, secret };
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  const passwordOnly: BenchSeed['passwordOnly'] = [];
  for (let i = 0; i < passwordOnlyCount; i += 1) {
    const email = `wachtwoord-${i}@bench.example`;
    const account = await stores.accounts.create({ tenantId: tenant.id, pool: 'staff', email, name: `Wachtwoord ${i}`, passwordHash, roles: ['key_user'], emailVerified: true });
    passwordOnly.push({ id: account.id, email });
  }
  return { tenantId: tenant.id, password, staffClient, serviceClient, accounts, passwordOnly };
}
