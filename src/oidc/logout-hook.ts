import type { Context, Middleware } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';

/**
 * Runs `onLogout` after oidc-provider has ended a session because the person chose to sign out
 * (RP-initiated logout, confirmed), with the account that was signed in. Wraps the provider.
 */
export function afterExplicitLogout(onLogout: (ctx: Context, accountId: string) => Promise<void>): Middleware {
  return async (ctx, next) => {
    await next();
    if (ctx.method !== 'POST' || ctx.path !== '/session/end/confirm') return;
    const oidc = (ctx as unknown as KoaContextWithOIDC).oidc;
    const accountId = oidc?.session?.accountId;
    if (accountId && oidc.params?.logout) await onLogout(ctx, accountId);
  };
}
