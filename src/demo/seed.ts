import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/environment.js';
import { hashPassword } from '../factors/password.js';
import type { Stores } from '../stores/open.js';

export const DEMO = {
  tenant: 'demo',
  staffClient: 'demo-econobis',
  portalClient: 'demo-portal',
  staffEmail: 'beheerder@demo.example',
  portalEmail: 'lid@demo.example',
};

/**
 * On a first start outside production (no tenant yet): a demo cooperative, a staff client
 * (confidential, like Econobis), a portal client (public, like the member portal), one staff and
 * one portal account. The password is random, kept in DATA_DIR/demo-credentials.txt and printed.
 */
export async function seedDemo(stores: Stores, config: Config): Promise<{ instructions: string } | undefined> {
  const file = path.join(config.dataDir, 'demo-credentials.txt');
  let tenant = await stores.tenants.findBySlug(DEMO.tenant);
  if (!tenant) {
    if ((await stores.tenants.count()) > 0) return undefined; // a real installation: never add a demo
    const password = randomBytes(9).toString('base64url');
    const passwordHash = await hashPassword(password);
    const created = await stores.tenants.create({ slug: DEMO.tenant, name: 'Demo Energiecoöperatie' }).catch((error: unknown) => {
      // several instances' first start at once on one empty database: another one seeds the demo
      if ((error as { code?: string }).code === '23505') return undefined;
      throw error;
    });
    if (!created) return undefined;
    tenant = created;
    const redirect = `${config.issuer}/demo/callback`;
    const common = { tenantId: tenant.id, redirectUris: [redirect], postLogoutRedirectUris: [`${config.issuer}/demo`] };
    await stores.clients.create({ ...common, clientId: DEMO.staffClient, pool: 'staff', secret: randomBytes(24).toString('base64url') });
    await stores.clients.create({ ...common, clientId: DEMO.portalClient, pool: 'portal' });
    await stores.accounts.create({ tenantId: tenant.id, pool: 'staff', email: DEMO.staffEmail, name: 'Demo Beheerder', passwordHash, roles: ['key_user', 'coop_admin'], emailVerified: true });
    await stores.accounts.create({ tenantId: tenant.id, pool: 'portal', email: DEMO.portalEmail, name: 'Demo Lid', passwordHash, emailVerified: true });
    fs.mkdirSync(config.dataDir, { recursive: true });
    fs.writeFileSync(file, `${password}\n`, { mode: 0o600 });
  }
  const password = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : '(see demo-credentials.txt in DATA_DIR)';
  return {
    instructions: [
      '',
      '  Sleutel demo is ready.',
      `  Open ${config.issuer}/demo in a browser and sign in:`,
      `    staff (Econobis):  ${DEMO.staffEmail}`,
      `    member (portal):   ${DEMO.portalEmail}`,
      `    password (both):   ${password}`,
      `  Admin console:     ${config.issuer}/admin/${DEMO.tenant} (staff account; 2FA is set up at its first sign-in)`,
      `  Discovery: ${config.issuer}/.well-known/openid-configuration`,
      '',
    ].join('\n'),
  };
}
