import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { hashPassword, MAX_PASSWORD_LENGTH } from '../factors/password.js';
import { ImportFailure, importEconobis } from '../importers/econobis/import-econobis.js';
import { describeReport } from '../importers/econobis/report.js';
import type { Role } from '../stores/accounts.js';
import type { Stores } from '../stores/open.js';
import { CliFailure, print } from './output.js';
import * as v from './validation.js';

export interface Invocation {
  positionals: string[];
  values: Record<string, string | string[] | boolean | undefined>;
  json: boolean;
  readStdin: () => Promise<string>;
}

export type Command = (stores: Stores, call: Invocation) => Promise<void>;

const str = (call: Invocation, name: string) => {
  const value = call.values[name];
  return Array.isArray(value) ? value[value.length - 1] : typeof value === 'string' ? value : undefined;
};
const list = (call: Invocation, name: string) => {
  const value = call.values[name];
  return Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
};

async function tenantOf(stores: Stores, call: Invocation) {
  const slug = v.check(v.slug, str(call, 'tenant'), '--tenant');
  const tenant = await stores.tenants.findBySlug(slug);
  if (!tenant) throw new CliFailure(`tenant "${slug}" does not exist (create it with: sleutel tenant add ${slug} --name …)`);
  return tenant;
}

/** A unique-constraint violation becomes a plain sentence instead of a stack trace. */
async function unique<T>(action: () => Promise<T>, what: string): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if ((error as { code?: string }).code === '23505') throw new CliFailure(`${what} already exists`);
    throw error;
  }
}

export const commands: Record<string, Command> = {
  async migrate(_stores, call) {
    // opening the stores ran every pending migration; reaching here means the schema is current
    print(call.json, { migrated: true }, 'database schema is up to date');
  },

  async 'tenant add'(stores, call) {
    const slug = v.check(v.slug, call.positionals[0], '<slug>');
    const name = v.check(z.string().trim().min(1, 'must not be empty').max(200), str(call, 'name'), '--name');
    const tenant = await unique(() => stores.tenants.create({ slug, name }), `tenant "${slug}"`);
    print(call.json, { id: tenant.id, slug: tenant.slug, name: tenant.name }, `tenant ${tenant.slug} created (${tenant.id})`);
  },

  async 'client add'(stores, call) {
    const tenant = await tenantOf(stores, call);
    const pool = v.check(v.pool, str(call, 'pool'), '--pool');
    const clientId = v.check(v.clientId, str(call, 'id'), '--id');
    const redirectUris = list(call, 'redirect-uri').map((u) => v.check(v.redirectUri, u, '--redirect-uri'));
    if (redirectUris.length === 0) throw new CliFailure('--redirect-uri is required (repeat it for several)', 2);
    const postLogout = list(call, 'post-logout-redirect-uri').map((u) => v.check(v.redirectUri, u, '--post-logout-redirect-uri'));
    const backchannel = str(call, 'backchannel-logout-uri');
    if (call.values.public && call.values.secret !== undefined) throw new CliFailure('use either --secret or --public', 2);
    // A confidential client without --secret gets a generated one, shown once.
    const secret = call.values.public ? undefined : (str(call, 'secret') !== undefined ? v.check(v.secret, str(call, 'secret'), '--secret') : randomBytes(32).toString('base64url'));
    await unique(
      () =>
        stores.clients.create({
          clientId,
          tenantId: tenant.id,
          pool,
          secret,
          redirectUris,
          postLogoutRedirectUris: postLogout,
          backchannelLogoutUri: backchannel === undefined ? undefined : v.check(v.redirectUri, backchannel, '--backchannel-logout-uri'),
        }),
      `client "${clientId}"`,
    );
    const shownSecret = secret !== undefined && str(call, 'secret') === undefined ? secret : undefined;
    print(
      call.json,
      { client_id: clientId, tenant: tenant.slug, pool, public: secret === undefined, ...(shownSecret ? { client_secret: shownSecret } : {}) },
      `client ${clientId} created for ${tenant.slug}/${pool}${shownSecret ? `; its secret (shown once): ${shownSecret}` : ''}`,
    );
  },

  async 'service-client add'(stores, call) {
    const tenant = await tenantOf(stores, call);
    const clientId = v.check(v.clientId, str(call, 'id'), '--id');
    const secret = v.check(v.secret, str(call, 'secret'), '--secret');
    await unique(
      () => stores.clients.create({ clientId, tenantId: tenant.id, pool: null, secret, redirectUris: [], postLogoutRedirectUris: [] }),
      `client "${clientId}"`,
    );
    print(call.json, { client_id: clientId, tenant: tenant.slug, service: true }, `service client ${clientId} created for ${tenant.slug}`);
  },

  async 'user add'(stores, call) {
    const tenant = await tenantOf(stores, call);
    const pool = v.check(v.pool, str(call, 'pool'), '--pool');
    const email = v.check(v.email, str(call, 'email'), '--email');
    const name = v.check(z.string().max(200), str(call, 'name') ?? '', '--name');
    const roles = [...new Set(list(call, 'role').map((r) => v.check(v.role, r, '--role') as Role))];
    if (pool === 'portal' && roles.length) throw new CliFailure('--role is for staff accounts only', 2);
    const password = (await call.readStdin()).replace(/\r?\n$/, '');
    if (password.length < 8) throw new CliFailure('the password (read from standard input) must be at least 8 characters', 2);
    if (password.length > MAX_PASSWORD_LENGTH) throw new CliFailure(`the password must be at most ${MAX_PASSWORD_LENGTH} characters`, 2);
    const account = await unique(
      async () => stores.accounts.create({ tenantId: tenant.id, pool, email, name, roles, passwordHash: await hashPassword(password), emailVerified: true }),
      `an account for ${email} in ${tenant.slug}/${pool}`,
    );
    print(call.json, { id: account.id, tenant: tenant.slug, pool, email: account.email, roles }, `account ${account.email} created in ${tenant.slug}/${pool} (${account.id})`);
  },

  async 'keys rotate'(stores, call) {
    const { kid, retired } = await stores.signingKeys.rotate();
    print(
      call.json,
      { kid, retired },
      `new signing key ${kid} is active; the previous key stays in the JWKS until its tokens have expired. Restart the instances to sign with it.`,
    );
  },

  async 'keys reencrypt'(stores, call) {
    const clients = await stores.clients.reencrypt();
    const signingKeys = await stores.signingKeys.reencrypt();
    const totpSecrets = await stores.secondFactors.reencrypt();
    print(
      call.json,
      { key_id: stores.box.activeKeyId, clients, signing_keys: signingKeys, totp_secrets: totpSecrets },
      `re-encrypted under ${stores.box.activeKeyId}: ${clients} client secrets, ${signingKeys} signing keys, ${totpSecrets} TOTP secrets`,
    );
  },

  async 'import econobis'(stores, call) {
    const tenant = await tenantOf(stores, call);
    const file = v.check(z.string().min(1, 'must not be empty'), str(call, 'file'), '--file');
    // the environment keeps the key out of the process list and the shell history
    const appKey = str(call, 'app-key') ?? process.env.ECONOBIS_APP_KEY;
    let exported: unknown;
    try {
      exported = JSON.parse(await readFile(file, 'utf8'));
    } catch (error) {
      throw new CliFailure(`cannot read the export ${file}: ${(error as Error).message}`);
    }
    try {
      const report = await importEconobis(stores, { tenantSlug: tenant.slug, file: exported, appKey: appKey || undefined, dryRun: call.values['dry-run'] === true });
      print(call.json, { ...report }, describeReport(report));
    } catch (error) {
      if (error instanceof ImportFailure) throw new CliFailure(`nothing imported: ${error.message}`);
      throw error;
    }
  },
};
