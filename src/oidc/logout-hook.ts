import type { Context, Middleware } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';

/**
 * Runs `onLogout` after oidc-provider has ended a session because the person chose to sign out
 * (RP-initiated logout, confirmed), with the account that was signed in. Wraps the provider.
 * oidc-provider also ends a session through the same endpoint when another account signs in in
 * that browser; it then returns to its own /auth/:uid, and that is no explicit logout.
 */
export function afterExplicitLogout(onLogout: (ctx: Context, accountId: string) => Promise<void>): Middleware {
  const afterLogout: Middleware = async (ctx, next) => {
    await next();
    const oidc = (ctx as unknown as KoaContextWithOIDC).oidc;
    const accountId = oidc?.session?.accountId;
    const returnTo = (oidc?.session?.state as { postLogoutRedirectUri?: string } | undefined)?.postLogoutRedirectUri;
    const accountSwitch = typeof returnTo === 'string' && returnTo.startsWith(`${oidc.issuer}/auth/`);
    if (accountId && oidc.params?.logout && !accountSwitch) await onLogout(ctx, accountId);
  };
  // only the confirmation of a logout is wrapped; every other request passes straight on
  return (ctx, next) => (ctx.method === 'POST' && ctx.path === '/session/end/confirm' ? afterLogout(ctx, next) : next());
}

/**
 * oidc-provider turns `max_age=0` into `prompt=login` and drops it; max_age is to force a fresh
 * second factor (docs/rules.md § What a login proves), so the fact is kept as an extra parameter
 * the interaction can read.
 */
export const MAX_AGE_ZERO_PARAM = 'sleutel_max_age_zero';

export function keepMaxAgeZero(): Middleware {
  return (ctx, next) => {
    if (ctx.method === 'GET' && ctx.path === '/auth' && ctx.query.max_age === '0') {
      ctx.querystring = `${ctx.querystring}&${MAX_AGE_ZERO_PARAM}=1`;
    }
    return next();
  };
}

/**
 * oidc-provider answers `/session/end` without a signed-in session with a page of its own (English,
 * unstyled, "Submitting Callback") that posts the logout confirmation with an inline script; it is
 * not configurable (actions/end_session.js calls response_modes/form_post.js directly). This puts
 * our page in its place: the same form, sent with one button, no script. After a logout without a
 * `post_logout_redirect_uri` the signed-out page is told the client, so it shows its cooperative.
 * Used with `provider.use`, so it runs around oidc-provider's routes only.
 */
export function ownLogoutPages(renderNotSignedIn: (ctx: KoaContextWithOIDC, form: string) => Promise<void>): Middleware {
  return async (ctx, next) => {
    await next();
    const { oidc } = ctx as unknown as KoaContextWithOIDC;
    if (oidc?.route === 'end_session' && ctx.status === 200 && !oidc.session?.accountId) {
      const secret = (oidc.session?.state as { secret?: string } | undefined)?.secret;
      if (!secret) return;
      const action = htmlSafe(oidc.urlFor('end_session_confirm'));
      const form = `<form id="op.logoutForm" method="post" action="${action}"><input type="hidden" name="xsrf" value="${htmlSafe(secret)}"/><input type="hidden" name="logout" value="yes"/></form>`;
      await renderNotSignedIn(ctx as unknown as KoaContextWithOIDC, form);
      // the hash oidc-provider added to script-src was for its script, which is gone
      ctx.set('Content-Security-Policy', ctx.response.get('Content-Security-Policy').replace(/ 'sha256-[^']*'/g, ''));
    } else if (oidc?.route === 'end_session_confirm' && ctx.status === 303 && oidc.client) {
      const location = new URL(ctx.response.get('Location'));
      if (location.href.startsWith(oidc.urlFor('end_session_success')) && !location.searchParams.has('client_id')) {
        location.searchParams.set('client_id', oidc.client.clientId);
        ctx.set('Location', location.href);
      }
    }
  };
}

const htmlSafe = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
