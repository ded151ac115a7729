import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { Config } from './config/environment.js';
import { resolveSecrets } from './config/secrets.js';
import { createApp } from './http/app.js';
import { Csrf } from './http/csrf.js';
import { assetRoutes } from './http/routes/assets.js';
import { interactionRoutes } from './http/routes/interaction.js';
import { operationsRoutes } from './http/routes/operations.js';
import { providerPages } from './http/provider-pages.js';
import { demoRelyingParty } from './demo/relying-party.js';
import { Views } from './http/views.js';
import type { Logger } from './log.js';
import { Interactions } from './oidc/interactions.js';
import { createProvider } from './oidc/provider.js';
import { pingDatabase, type Database } from './stores/database.js';
import type { KeyValueStore } from './stores/kv/index.js';
import { openStores, type Stores } from './stores/open.js';

export type { Stores };

export interface Sleutel {
  app: Koa;
  provider: Provider;
  stores: Stores;
  /** flips /readyz to 503 while the server drains */
  beginShutdown(): void;
  close(): Promise<void>;
}

/** All wiring in one place: stores → provider → flows → routes → app. */
export async function createSleutel(config: Config, log: Logger, overrides: { db?: Database; kv?: KeyValueStore } = {}): Promise<Sleutel> {
  const stores = await openStores(config, log, overrides);
  const { cookieKeys } = resolveSecrets(config);
  await stores.signingKeys.ensureActiveKey();
  const views = new Views();
  const pages = providerPages(views);

  const provider = createProvider({
    issuer: config.issuer,
    production: config.production,
    jwks: await stores.signingKeys.load(),
    cookieKeys,
    kv: stores.kv,
    clients: stores.clients,
    accounts: {
      async find(accountId) {
        const account = await stores.accounts.findById(accountId);
        const tenant = account && (await stores.tenants.findById(account.tenantId));
        return account && tenant ? { account, tenantSlug: tenant.slug } : undefined;
      },
      async belongsTo(accountId, binding) {
        const account = await stores.accounts.findById(accountId);
        return Boolean(account && account.tenantId === binding.tenant_id && account.pool === binding.pool && !account.disabled);
      },
    },
    ...pages,
  });
  provider.on('server_error', (ctx, error) => (ctx.state.log ?? log).error({ err: error }, 'oidc-provider server error'));

  let shuttingDown = false;
  const app = createApp({
    provider,
    log,
    views,
    trustProxy: config.trustProxy,
    cookieKeys,
    routers: [
      operationsRoutes({ checks: { database: () => pingDatabase(stores.db), kv: () => stores.kv.ping() }, isShuttingDown: () => shuttingDown }),
      assetRoutes(views),
      interactionRoutes({
        interactions: new Interactions(provider),
        accounts: stores.accounts,
        tenants: stores.tenants,
        audit: stores.audit,
        views,
        csrf: new Csrf(cookieKeys, config.production),
      }),
      ...(config.production ? [] : [demoRelyingParty({ issuer: config.issuer, clients: stores.clients, views })]),
    ],
  });

  return {
    app,
    provider,
    stores,
    beginShutdown: () => {
      shuttingDown = true;
    },
    close: async () => {
      await stores.kv.close();
      await stores.db.destroy();
    },
  };
}
