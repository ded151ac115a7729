/**
 * Bare oidc-provider 9 on Redis: the ceiling of this stack for `npm run bench`. The same token
 * lifetimes, PKCE, refresh-token rotation and RS256 ID tokens as Sleutel, but no database, no
 * screens, no checks of our own: a client_credentials client, a code-flow client, and an
 * interaction that signs in at once (devInteractions replaced) so logins can be driven.
 *
 * Environment: PORT, REDIS_URL, BARE_PREFIX (Redis key prefix), BARE_SECRET (both clients),
 * BARE_REDIRECT_URI, COOKIE_KEY.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import Provider from 'oidc-provider';
import { TTL } from '../../src/oidc/provider.js';
import { redisAdapterFactory } from './redis-adapter.js';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`bare provider: ${name} is not set`);
  return value;
};

const port = Number(env('PORT'));
const issuer = `http://127.0.0.1:${port}`;
const redis = new Redis(env('REDIS_URL'), { keyPrefix: env('BARE_PREFIX') });
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bare', alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  adapter: redisAdapterFactory(redis),
  clients: [
    { client_id: 'bare-service', client_secret: env('BARE_SECRET'), grant_types: ['client_credentials'], response_types: [], redirect_uris: [] },
    {
      client_id: 'bare-code',
      client_secret: env('BARE_SECRET'),
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [env('BARE_REDIRECT_URI')],
    },
  ],
  jwks: { keys: [jwk as never] },
  cookies: { keys: [env('COOKIE_KEY')], long: { httpOnly: true, sameSite: 'lax' }, short: { httpOnly: true, sameSite: 'lax' } },
  findAccount: async (_ctx, sub) => ({
    accountId: sub,
    claims: async () => ({ sub, email: `${sub}@bare.example`, email_verified: true, name: 'Bare' }),
  }),
  scopes: ['openid', 'offline_access', 'email', 'profile'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  conformIdTokenClaims: false,
  responseTypes: ['code'],
  pkce: { required: () => true },
  rotateRefreshToken: true,
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  features: { devInteractions: { enabled: false }, clientCredentials: { enabled: true }, introspection: { enabled: true }, revocation: { enabled: true } },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  ttl: { ...TTL },
});

// The trivial interaction: whoever comes is signed in (a new account each time) and granted what was asked.
provider.use(async (ctx, next) => {
  const match = /^\/interaction\/([^/]+)$/.exec(ctx.path);
  if (!match || ctx.method !== 'GET') return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const accountId = randomUUID();
  const grant = new provider.Grant({ accountId, clientId: String(details.params.client_id) });
  if (typeof details.params.scope === 'string') grant.addOIDCScope(details.params.scope);
  const grantId = await grant.save();
  await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
});
provider.use(async (ctx, next) => {
  if (ctx.path === '/readyz') {
    await redis.ping();
    ctx.body = 'ok';
    return;
  }
  return next();
});

const server = provider.listen(port, '127.0.0.1');
server.keepAliveTimeout = 65_000;
const stop = () => {
  server.close(() => {
    void redis.quit().finally(() => process.exit(0));
  });
  server.closeIdleConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
