import type { KoaContextWithOIDC } from 'oidc-provider';
import { clientBinding } from '../oidc/client-binding.js';
import type { TenantStore } from '../stores/tenants.js';
import { chooseLocale, type Views } from './views.js';

/**
 * oidc-provider's own pages (errors, logout) in our look and language, with the cooperative's name
 * when the request names its client (`client_id`, or the audience of `id_token_hint`), as the login
 * screens show it.
 */
export function providerPages(views: Views, tenants: Pick<TenantStore, 'findRecent'>) {
  const locale = (ctx: KoaContextWithOIDC) => chooseLocale((ctx.oidc?.params?.ui_locales ?? ctx.query.ui_locales) as string | undefined, ctx.get('accept-language'));
  const tenantName = async (ctx: KoaContextWithOIDC): Promise<string | undefined> => {
    const binding = clientBinding(ctx.oidc?.client);
    if (!binding) return undefined;
    try {
      return (await tenants.findRecent(binding.tenant_id))?.name;
    } catch {
      return undefined; // a page about a store outage still renders, as Sleutel's
    }
  };
  const render = async (ctx: KoaContextWithOIDC, template: string, data: Record<string, unknown> = {}) => {
    ctx.type = 'html';
    ctx.body = views.render(template, locale(ctx), { tenantName: await tenantName(ctx), ...data });
  };
  return {
    async renderError(ctx: KoaContextWithOIDC, out: { error: string; error_description?: string }) {
      const unavailable = out.error === 'temporarily_unavailable';
      if (unavailable) {
        ctx.set('Retry-After', '30');
        ctx.type = 'html';
        ctx.body = views.render('error', locale(ctx), { messageKey: 'error.unavailable', code: out.error });
        return;
      }
      await render(ctx, 'error', { messageKey: 'error.oidc', code: out.error });
    },
    renderLogout: (ctx: KoaContextWithOIDC, form: string) => render(ctx, 'logout', { form }),
    /** `/session/end` without a session: nothing to confirm, one button back (oidc-provider's page submits itself with a script). */
    renderNotSignedIn: (ctx: KoaContextWithOIDC, form: string) => render(ctx, 'logout', { form, signedOut: true }),
    renderLoggedOut: (ctx: KoaContextWithOIDC) => render(ctx, 'logged-out'),
  };
}
