import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { Config } from './config/environment.js';
import { resolveSecrets } from './config/secrets.js';
import { demoRelyingParty } from './demo/relying-party.js';
import type { FlowDependencies } from './flows/dependencies.js';
import { createApp } from './http/app.js';
import { BrowserCookie } from './http/browser-cookie.js';
import { Csrf } from './http/csrf.js';
import { providerPages } from './http/provider-pages.js';
import { accountRoutes } from './http/routes/account.js';
import { assetRoutes } from './http/routes/assets.js';
import { interactionRoutes } from './http/routes/interaction.js';
import { LoginFlow } from './flows/login/login-flow.js';
import { PasskeyChallenges, PasskeyFactor, relyingPartyFromIssuer } from './factors/passkey/index.js';
import { PasskeyStore } from './stores/passkeys.js';
import { RecoveryCodeFactor } from './factors/recovery-code/recovery-code-factor.js';
import { SecondFactors } from './factors/second-factor.js';
import { TotpFactor } from './factors/totp/totp-factor.js';
import { AccountPage } from './flows/account/account-page.js';
import { AccountSignIn } from './oidc/account-sign-in.js';
import { emailRoutes } from './http/routes/email.js';
import { passwordRoutes } from './http/routes/password.js';
import { manageRouter } from './http/manage/routes.js';
import { adminConsoleRouters } from './http/admin/routes.js';
import { operationsRoutes } from './http/routes/operations.js';
import { Views } from './http/views.js';
import { Metrics } from './http/metrics.js';
import type { Logger } from './log.js';
import { Mailer } from './mail/mailer.js';
import { Interactions } from './oidc/interactions.js';
import { afterExplicitLogout, keepMaxAgeZero } from './oidc/logout-hook.js';
import { createProvider } from './oidc/provider.js';
import { AccountSessions } from './oidc/sessions.js';
import { BackchannelLogouts } from './oidc/backchannel.js';
import { observeProvider } from './oidc/provider-events.js';
import { ACR_TWO_FACTOR } from './policy/authentication-level.js';
import { mayReceiveManageScope } from './policy/permissions.js';
import { AccountPageState } from './stores/account-page-state.js';
import { pingDatabase, type Database } from './stores/database.js';
import type { KeyValueStore } from './stores/kv/index.js';
import { AccountLockout, Lockout } from './stores/lockouts.js';
import { PasswordTokenStore } from './stores/password-tokens.js';
import { RateLimits } from './stores/rate-limits.js';
import { IP_SCALE } from './policy/lockout.js';
import { LoginProgressStore } from './stores/login-progress.js';
import { openStores, type Stores } from './stores/open.js';
import { RemembranceStore } from './stores/remembrances.js';
import { EmailChangeStore } from './stores/email-changes.js';
import path from 'node:path';

export type { Stores };

export interface Sleutel {
  app: Koa;
  metrics: Metrics;
  provider: Provider;
  stores: Stores;
  flows: FlowDependencies;
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
  const metrics = new Metrics();
  stores.audit.onRecord((type, details) => metrics.countAuditEvent(type, details));

  const provider = createProvider({
    issuer: config.issuer,
    production: config.production,
    jwks: await stores.signingKeys.load(),
    cookieKeys,
    kv: stores.kv,
    clients: stores.clients,
    accounts: {
      // Both may answer from a cache of at most ACCOUNT_CACHE_SECONDS (src/stores/accounts.ts):
      // they run at every code exchange, refresh, userinfo and authorization request.
      find: (accountId) => stores.accounts.findCachedWithTenantSlug(accountId),
      async belongsTo(accountId, binding) {
        const account = (await stores.accounts.findCachedWithTenantSlug(accountId))?.account;
        return Boolean(account && account.tenantId === binding.tenant_id && account.pool === binding.pool && !account.disabled);
      },
    },
    ...providerPages(views, stores.tenants),
  });
  const backchannel = new BackchannelLogouts(log, (result) => metrics.countBackchannelLogout(result));
  observeProvider(provider, log, backchannel);

  const sessions = new AccountSessions(provider, stores.kv, log, backchannel);
  const mailer = new Mailer({ smtpUrl: config.smtpUrl, from: config.mailFrom, outboxDir: path.join(config.dataDir, 'outbox'), views, log });
  // the second factors (src/factors/second-factor.ts); a new one is built here and listed in `factors`
  const totp = new TotpFactor(stores.secondFactors, stores.box);
  const recoveryCode = new RecoveryCodeFactor(stores.secondFactors);
  const passkeys = new PasskeyStore(stores.db);
  const passkey = new PasskeyFactor(passkeys, new PasskeyChallenges(stores.kv), relyingPartyFromIssuer(config.issuer));
  const flows: FlowDependencies = {
    ...stores,
    factors: new SecondFactors([totp, recoveryCode, passkey]),
    totp,
    recoveryCode,
    passkey,
    passkeys,
    remembrances: new RemembranceStore(stores.kv),
    lockout: new AccountLockout(stores.kv),
    ipLockout: new Lockout(stores.kv, 'ip', IP_SCALE),
    passwordTokens: new PasswordTokenStore(stores.kv),
    emailChanges: new EmailChangeStore(stores.kv),
    rateLimits: new RateLimits(stores.kv),
    issuer: config.issuer,
    progress: new LoginProgressStore(stores.kv),
    mailer,
    sessions,
  };
  const interactions = new Interactions(provider, async (accountId, acr) => {
    const account = await stores.accounts.findById(accountId);
    return Boolean(account && mayReceiveManageScope(account, acr, ACR_TWO_FACTOR));
  });
  const csrf = new Csrf(cookieKeys, config.production);
  const browser = new BrowserCookie(config.production);

  // docs/rules.md, rule 11: an explicit logout forgets this browser when the tenant says so
  const forgetBrowser = afterExplicitLogout(async (ctx, accountId) => {
    const account = await stores.accounts.findById(accountId);
    const tenant = account && (await stores.tenants.findById(account.tenantId));
    const token = browser.read(ctx, accountId);
    if (tenant?.policy.forget_two_factor_on_logout && token) {
      await flows.remembrances.forget(accountId, token);
      browser.clear(ctx, accountId);
    }
  });

  let shuttingDown = false;
  const app = createApp({
    provider,
    log,
    views,
    trustProxy: config.trustProxy,
    cookieKeys,
    metrics,
    routers: [
      metrics.routes(),
      operationsRoutes({ checks: { database: () => pingDatabase(stores.db), kv: () => stores.kv.ping() }, isShuttingDown: () => shuttingDown }),
      assetRoutes(views),
      interactionRoutes({ login: new LoginFlow(flows), tenants: flows.tenants, interactions, views, csrf, browser }),
      accountRoutes({ page: new AccountPage({ ...flows, pageState: new AccountPageState(stores.kv) }), sessions, signIn: new AccountSignIn(provider, config.issuer), views, csrf, browser }),
      passwordRoutes({ flows, interactions, views, csrf }),
      emailRoutes({ flows, views, csrf }),
      manageRouter({ ...flows, provider, issuer: config.issuer }),
      ...adminConsoleRouters({ flows, provider, issuer: config.issuer, views, csrf, production: config.production }),
      ...(config.production ? [] : [demoRelyingParty({ issuer: config.issuer, clients: stores.clients, views })]),
    ],
    aroundProvider: [keepMaxAgeZero(), forgetBrowser],
    isShuttingDown: () => shuttingDown,
  });

  return {
    app,
    metrics,
    provider,
    stores,
    flows,
    beginShutdown: () => {
      shuttingDown = true;
    },
    close: async () => {
      mailer.close();
      await stores.kv.close();
      await stores.db.destroy();
    },
  };
}
