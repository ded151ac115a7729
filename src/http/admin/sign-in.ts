import { createHash, randomBytes } from 'node:crypto';
import Router from '@koa/router';
import { Forbidden } from '../../errors.js';
import { adminClientId, adminRedirectUri, ensureAdminClient, redeemAdminCode } from '../../oidc/admin-client.js';
import { ACR_TWO_FACTOR } from '../../policy/authentication-level.js';
import { mayReceiveManageScope } from '../../policy/permissions.js';
import { chooseLocale } from '../views.js';
import { emptyForm, type ConsoleDeps, type ConsoleKit } from './console.js';

const LOGIN_COOKIE = 'sleutel.admin-login';

interface LoginState {
  state: string;
  verifier: string;
  slug: string;
  /** the console path to return to */
  back: string;
}

/**
 * Signing in to the console: Sleutel's own login, as the tenant's first-party console client, with
 * code + PKCE and `acr_values=urn:sleutel:acr:2fa` (a fresh second factor, enrollment when the
 * account has none). Only staff with a role whose login passed the second factor get a console
 * session (the rule of the management token, docs/rules.md § Role table); everyone else sees a refusal.
 */
export function signInRoutes(deps: ConsoleDeps, kit: ConsoleKit): Router {
  const router = new Router({ prefix: '/admin/:slug' });

  router.get('/', async (ctx) => {
    if (await kit.viewer(ctx)) ctx.redirect(`/admin/${ctx.params.slug}/users`);
  });

  router.get('/sign-in', async (ctx) => {
    ctx.state.locale = chooseLocale(undefined, ctx.get('accept-language'));
    const tenant = await kit.tenantOf(ctx.params.slug!);
    const clientId = await ensureAdminClient(deps.flows.clients, tenant, deps.issuer);
    const requested = typeof ctx.query.return === 'string' ? ctx.query.return : '';
    const back = requested.startsWith(`/admin/${tenant.slug}/`) && requested.length < 200 && /^[A-Za-z0-9/_-]+$/.test(requested) ? requested : `/admin/${tenant.slug}/users`;
    const login: LoginState = { state: randomBytes(16).toString('base64url'), verifier: randomBytes(32).toString('base64url'), slug: tenant.slug, back };
    ctx.cookies.set(LOGIN_COOKIE, Buffer.from(JSON.stringify(login)).toString('base64url'), {
      httpOnly: true, sameSite: 'lax', secure: ctx.secure, maxAge: 3600_000, signed: true, overwrite: true, path: `/admin/${tenant.slug}`,
    });
    const query = new URLSearchParams({
      client_id: clientId,
      response_type: 'code',
      scope: 'openid',
      redirect_uri: adminRedirectUri(deps.issuer, tenant.slug),
      code_challenge: createHash('sha256').update(login.verifier).digest('base64url'),
      code_challenge_method: 'S256',
      acr_values: ACR_TWO_FACTOR,
      state: login.state,
      ui_locales: ctx.state.locale,
    });
    ctx.redirect(`/auth?${query}`);
  });

  router.get('/callback', async (ctx) => {
    ctx.state.locale = chooseLocale(undefined, ctx.get('accept-language'));
    const tenant = await kit.tenantOf(ctx.params.slug!);
    const raw = ctx.cookies.get(LOGIN_COOKIE, { signed: true });
    ctx.cookies.set(LOGIN_COOKIE, null, { path: `/admin/${tenant.slug}`, overwrite: true });
    let login: LoginState | undefined;
    try {
      login = raw ? (JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as LoginState) : undefined;
    } catch {
      login = undefined;
    }
    const failed = () => kit.render(ctx, 'admin-message', { title: 'admin.title', messageKey: 'admin.sign_in_failed', failed: true, again: `/admin/${tenant.slug}/sign-in` }, 400);
    if (!login || login.slug !== tenant.slug || ctx.query.state !== login.state) return failed();
    // the login was cancelled or refused (e.g. access_denied): say so, and offer to try again
    if (typeof ctx.query.code !== 'string') return failed();
    const redeemed = await redeemAdminCode(deps.provider, {
      clientId: adminClientId(tenant.slug),
      code: ctx.query.code,
      verifier: login.verifier,
      redirectUri: adminRedirectUri(deps.issuer, tenant.slug),
    });
    if (!redeemed) return failed();
    const account = await deps.flows.accounts.findById(redeemed.accountId);
    if (!account || account.tenantId !== tenant.id || !mayReceiveManageScope(account, redeemed.acr, ACR_TWO_FACTOR)) {
      throw new Forbidden('admin.refused', 'the console is for staff with the key_user or coop_admin role who signed in with 2FA');
    }
    await kit.sessions.open(ctx, { tenantId: tenant.id, accountId: account.id, acr: redeemed.acr! });
    ctx.redirect(login.back);
  });

  router.post('/sign-out', async (ctx) => {
    const { me } = await kit.action(ctx, emptyForm);
    await kit.sessions.end(ctx);
    kit.render(ctx, 'admin-message', { title: 'admin.signed_out_title', tenantName: me.tenant.name, messageKey: 'admin.signed_out_text', again: `/admin/${me.slug}/sign-in` });
  });

  return router;
}
