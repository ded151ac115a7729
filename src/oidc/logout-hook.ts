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
 * oidc-provider turns `max_age=0` into `prompt=login` and drops it; DESIGN §3 wants max_age to
 * force a fresh second factor, so the fact is kept as an extra parameter the interaction can read.
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
