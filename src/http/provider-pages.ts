import type { KoaContextWithOIDC } from 'oidc-provider';
import { chooseLocale, type Views } from './views.js';

/** oidc-provider's own pages (errors, logout) in our look and language. */
export function providerPages(views: Views) {
  const locale = (ctx: KoaContextWithOIDC) => chooseLocale(ctx.oidc?.params?.ui_locales as string | undefined, ctx.get('accept-language'));
  return {
    renderError(ctx: KoaContextWithOIDC, out: { error: string; error_description?: string }) {
      const unavailable = out.error === 'temporarily_unavailable';
      if (unavailable) ctx.set('Retry-After', '30');
      ctx.type = 'html';
      ctx.body = views.render('error', locale(ctx), { messageKey: unavailable ? 'error.unavailable' : 'error.oidc', code: out.error });
    },
    renderLogout(ctx: KoaContextWithOIDC, form: string) {
      ctx.type = 'html';
      ctx.body = views.render('logout', locale(ctx), { form });
    },
    renderLoggedOut(ctx: KoaContextWithOIDC) {
      ctx.type = 'html';
      ctx.body = views.render('logged-out', locale(ctx));
    },
  };
}
