import type { JsonWebKey } from 'node:crypto';
import Provider, { errors, interactionPolicy, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { ACR_TWO_FACTOR, ACR_VALUES } from '../policy/authentication-level.js';
import type { KeyValueStore } from '../stores/kv/key-value-store.js';
import type { ClientStore } from '../stores/clients.js';
import { ClientAdapter, KeyValueAdapter } from './adapter.js';
import { ACCOUNT_CLIENT_PARAM, accountClientMetadata } from './account-client.js';
import { BACKCHANNEL_TIMEOUT_MS } from './backchannel.js';
import { MAX_AGE_ZERO_PARAM, ownLogoutPages } from './logout-hook.js';
import { clientBinding, loginBinding } from './client-binding.js';
import { createFindAccount, type AccountDirectory } from './find-account.js';
import { MANAGE_SCOPE, manageResource } from './manage-tokens.js';
import { guarded, guardedAdapter } from './store-unavailable.js';

/**
 * Token and session lifetimes in seconds. Refresh tokens rotate at every use and, without
 * `offline_access`, end with the session.
 */
export const TTL = {
  AccessToken: 10 * 60,
  AuthorizationCode: 60,
  ClientCredentials: 10 * 60,
  IdToken: 60 * 60,
  Interaction: 60 * 60,
  RefreshToken: 12 * 60 * 60,
  Session: 12 * 60 * 60,
  Grant: 12 * 60 * 60,
} as const;

export interface ProviderDependencies {
  issuer: string;
  production: boolean;
  jwks: JsonWebKey[];
  cookieKeys: string[];
  kv: KeyValueStore;
  clients: ClientStore;
  accounts: AccountDirectory;
  renderError(ctx: KoaContextWithOIDC, out: { error: string; error_description?: string }, error: Error): Promise<void>;
  renderLogout(ctx: KoaContextWithOIDC, form: string): Promise<void>;
  renderNotSignedIn(ctx: KoaContextWithOIDC, form: string): Promise<void>;
  renderLoggedOut(ctx: KoaContextWithOIDC): Promise<void>;
}

/** True when the authorization request asks for the two-factor level (docs/rules.md § What a login proves). */
export function requestsTwoFactor(acrValues: unknown): boolean {
  return typeof acrValues === 'string' && acrValues.split(' ').includes(ACR_TWO_FACTOR);
}

/**
 * The login prompt, plus two checks: a session of another tenant or pool than the client's never
 * counts, and `acr_values=urn:sleutel:acr:2fa` always asks for a fresh second factor (oidc-provider
 * does not enforce acr_values by itself).
 */
function interactions(accounts: AccountDirectory): Configuration['interactions'] {
  const { Check, base } = interactionPolicy;
  const policy = base();
  const login = policy.get('login')!;
  login.checks.add(
    new Check('account_not_in_client_pool', 'the session belongs to another tenant or pool', 'login_required', (ctx) =>
      guarded(async () => {
        const accountId = ctx.oidc.session?.accountId;
        if (!accountId || !ctx.oidc.client) return Check.NO_NEED_TO_PROMPT;
        const binding = await loginBinding(ctx.oidc.provider, ctx.oidc.client.clientId, ctx.oidc.params ?? {});
        return binding && (await accounts.belongsTo(accountId, binding)) ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
      }),
    ),
  );
  login.checks.add(
    new Check('acr_step_up', 'a fresh second factor is requested', 'login_required', (ctx) =>
      requestsTwoFactor(ctx.oidc.params?.acr_values) && !ctx.oidc.result?.login ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT,
    ),
  );
  return { policy, url: (_ctx, interaction) => `/interaction/${interaction.uid}` };
}

export function createProvider(deps: ProviderDependencies): Provider {
  const findAccount = createFindAccount(deps.accounts);
  const cookieNames = deps.production
    ? { session: '__Host-sleutel.session', interaction: '__Secure-sleutel.interaction', resume: '__Secure-sleutel.resume' }
    : { session: 'sleutel.session', interaction: 'sleutel.interaction', resume: 'sleutel.resume' };

  const configuration: Configuration = {
    adapter: (name: string) => guardedAdapter(name === 'Client' ? new ClientAdapter(deps.clients) : new KeyValueAdapter(name, deps.kv)),
    jwks: { keys: deps.jwks as never },
    cookies: {
      keys: deps.cookieKeys,
      names: cookieNames,
      long: { httpOnly: true, sameSite: 'lax' },
      short: { httpOnly: true, sameSite: 'lax' },
    },
    findAccount: (ctx, sub, token) => guarded(async () => findAccount(ctx, sub, token)),
    clients: [accountClientMetadata(deps.issuer)],
    extraParams: [ACCOUNT_CLIENT_PARAM, MAX_AGE_ZERO_PARAM],
    scopes: ['openid', 'offline_access', 'email', 'profile', 'tenant'],
    claims: {
      // acr and amr under openid, or oidc-provider leaves them out of ID tokens
      openid: ['sub', 'acr', 'amr'],
      email: ['email', 'email_verified'],
      profile: ['name'],
      tenant: ['tenant', 'pool', 'roles'],
    },
    acrValues: [...ACR_VALUES],
    // relying parties read e-mail, tenant, pool and roles from the ID token itself, not only from userinfo
    conformIdTokenClaims: false,
    responseTypes: ['code'],
    pkce: { required: () => true },
    rotateRefreshToken: true,
    // First-party clients get refresh tokens without the offline_access + prompt=consent dance;
    // such tokens end with the session (logout, or an admin ending the account's sessions).
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    extraClientMetadata: { properties: ['tenant_id', 'pool'] },
    // the login's acr travels with a user's access token, so the management API can demand 2FA
    extraTokenClaims: (ctx, token) => {
      if (token.kind !== 'AccessToken') return undefined;
      const origin = ctx.oidc.entities.AuthorizationCode ?? ctx.oidc.entities.RefreshToken;
      return origin?.acr ? { acr: origin.acr } : undefined;
    },
    // Back-channel logout reaches relying parties on private networks too (Econobis next to Sleutel
    // in one compose network): clients are registered by operators, not dynamically, so the
    // special-use-address block oidc-provider applies to outgoing requests is lifted here.
    // oidc-provider gives every outgoing request a 2.5 s signal of its own; a relying party gets the
    // 5 s docs/integration.md promises instead.
    fetch: (url, options) => {
      const { dispatcher: _unused, signal: _short, ...rest } = options as RequestInit & { dispatcher?: unknown };
      return globalThis.fetch(url, { ...rest, signal: AbortSignal.timeout(BACKCHANNEL_TIMEOUT_MS) });
    },
    // Exactly what clients registered with `sleutel client add` use and the tests cover: a secret in
    // HTTP Basic or in the form, or none (public clients, PKCE alone). No JWT client assertions:
    // the CLI registers no keys for them.
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
    // A public single-page client (the member portal) may call the token endpoint from its own origin.
    clientBasedCORS: (_ctx, origin, client) => client.redirectUris?.some((uri) => new URL(uri).origin === origin) ?? false,
    features: {
      devInteractions: { enabled: false },
      introspection: {
        enabled: true,
        // a client learns about its own tokens; a service client also about its own tenant's (as a
        // resource server would) — never about another cooperative's
        allowedPolicy: async (ctx, client, token) => {
          if (token.clientId === client.clientId) return true;
          const caller = clientBinding(client);
          if (!caller || caller.pool !== null || !token.clientId) return false;
          return clientBinding(await ctx.oidc.provider.Client.find(token.clientId))?.tenant_id === caller.tenant_id;
        },
      },
      revocation: {
        enabled: true,
        // a client revokes only tokens issued to itself; another client's token (of the same
        // cooperative or another) is left alone with the same 200 as an unknown one (RFC 7009 §2.2),
        // so the answer tells nothing about tokens it does not hold
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      // advertised by oidc-provider 9 by default, used by none of the cooperatives' clients and not tested
      pushedAuthorizationRequests: { enabled: false },
      dPoP: { enabled: false },
      clientCredentials: { enabled: true },
      backchannelLogout: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // a service client asking client_credentials without `resource` means the management API
        defaultResource: (_ctx, client) => (client && clientBinding(client)?.pool === null ? manageResource(deps.issuer) : undefined),
        useGrantedResource: () => false,
        getResourceServerInfo: (_ctx, resource) => {
          if (resource !== manageResource(deps.issuer)) throw new errors.InvalidTarget();
          return { scope: MANAGE_SCOPE, audience: resource, accessTokenFormat: 'opaque', accessTokenTTL: TTL.AccessToken };
        },
      },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => deps.renderLogout(ctx, form),
        postLogoutSuccessSource: async (ctx) => deps.renderLoggedOut(ctx),
      },
    },
    interactions: interactions(deps.accounts),
    ttl: { ...TTL },
    renderError: async (ctx, out, error) => deps.renderError(ctx, out, error),
  };

  const provider = new Provider(deps.issuer, configuration);
  provider.proxy = true; // trusted only as far as the outer Koa app is (TRUST_PROXY)
  provider.use(ownLogoutPages((ctx, form) => deps.renderNotSignedIn(ctx, form)));
  memoizeClientMetadata(provider);
  return provider;
}

/**
 * oidc-provider rebuilds a client's metadata at every `client.metadata()` call (each property name
 * snake_cased and looked up in a list of ~80 names), and the client's tenant and pool are read
 * from it several times per request (resource indicators, findAccount, the login checks): about
 * 5 % of a token request's CPU (`npm run bench`). A Client instance never changes — a client
 * changed in the database becomes a new instance — so the result is kept per instance; callers
 * get their own shallow copy, as before.
 */
function memoizeClientMetadata(provider: Provider): void {
  const prototype = provider.Client.prototype as { metadata(this: object): object };
  const build = prototype.metadata;
  const kept = new WeakMap<object, object>();
  prototype.metadata = function metadata(this: object) {
    let metadata = kept.get(this);
    if (!metadata) {
      metadata = build.call(this);
      kept.set(this, metadata);
    }
    return { ...metadata };
  };
}
