import Router from '@koa/router';
import type { Context } from 'koa';
import type * as Oidc from 'openid-client';
import type { Views } from '../http/views.js';
import { chooseLocale } from '../http/views.js';
import type { ClientStore } from '../stores/clients.js';
import { DEMO } from './seed.js';

const COOKIE = 'sleutel.demo';

// loaded when the demo is first used, not at start: a developer's convenience is no reason for every process to carry it
let library: Promise<typeof Oidc> | undefined;
const openidClient = () => (library ??= import('openid-client'));

/**
 * A tiny relying party for trying Sleutel in a browser (development only): a real
 * authorization-code flow with PKCE through openid-client, like Econobis or the portal would do.
 */
export function demoRelyingParty(deps: { issuer: string; clients: ClientStore; views: Views }): Router {
  const router = new Router({ prefix: '/demo' });
  const configs = new Map<string, Promise<Oidc.Configuration>>();

  const configFor = (clientId: string) => {
    let config = configs.get(clientId);
    if (!config) {
      config = (async () => {
        const oidc = await openidClient();
        const client = await deps.clients.find(clientId);
        if (!client) throw Object.assign(new Error('demo not seeded'), { status: 404 });
        const auth = client.secret ? oidc.ClientSecretBasic(client.secret) : oidc.None();
        return oidc.discovery(new URL(deps.issuer), clientId, client.secret ? undefined : {}, auth, { execute: [oidc.allowInsecureRequests] });
      })();
      config.catch(() => configs.delete(clientId));
      configs.set(clientId, config);
    }
    return config;
  };

  const page = (ctx: Context, result?: { claims: object; logout: string }) => {
    const locale = chooseLocale(undefined, ctx.get('accept-language'));
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = deps.views.render('demo', locale, { result });
  };

  router.get('/', (ctx) => page(ctx));

  router.get('/login/:pool', async (ctx) => {
    const clientId = ctx.params.pool === 'staff' ? DEMO.staffClient : DEMO.portalClient;
    const [oidc, config] = await Promise.all([openidClient(), configFor(clientId)]);
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    ctx.cookies.set(COOKIE, JSON.stringify({ verifier, state, clientId }), { signed: true, httpOnly: true, sameSite: 'lax', maxAge: 600_000 });
    ctx.redirect(
      oidc.buildAuthorizationUrl(config, {
        redirect_uri: `${deps.issuer}/demo/callback`,
        scope: 'openid email profile tenant',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
      }).href,
    );
  });

  router.get('/callback', async (ctx) => {
    const saved = ctx.cookies.get(COOKIE, { signed: true });
    if (!saved) return ctx.redirect('/demo');
    const { verifier, state, clientId } = JSON.parse(saved) as { verifier: string; state: string; clientId: string };
    ctx.cookies.set(COOKIE, null);
    const [oidc, config] = await Promise.all([openidClient(), configFor(clientId)]);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(ctx.originalUrl, deps.issuer), { pkceCodeVerifier: verifier, expectedState: state });
    const claims = tokens.claims()!;
    const logout = oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: `${deps.issuer}/demo` });
    page(ctx, { claims, logout: logout.href });
  });

  return router;
}
