import type { Context } from 'koa';
import { InteractionExpired, type Interactions } from '../oidc/interactions.js';
import type { TenantStore } from '../stores/tenants.js';
import type { Csrf } from './csrf.js';
import { chooseLocale, type Views } from './views.js';

/**
 * What every screen route shares: rendering a screen (never cached, always with a CSRF token for
 * its forms, in the language chosen for the request), and loading the pending authorization
 * request with its cooperative (as recently read: its name for the screens).
 */
export function screenRenderer(deps: { views: Views; csrf: Csrf }) {
  return (ctx: Context, template: string, data: Record<string, unknown>, status = 200) => {
    ctx.status = status;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = deps.views.render(template, ctx.state.locale, { csrf: deps.csrf.token(ctx), ...data });
  };
}

export function interactionLoader(deps: { interactions: Interactions; tenants: TenantStore }) {
  return async (ctx: Context) => {
    const interaction = await deps.interactions.load(ctx);
    ctx.state.locale = chooseLocale(interaction.params.ui_locales, ctx.get('accept-language'));
    // for the screens; the flows read the policy fresh where it decides something
    const tenant = await deps.tenants.findRecent(interaction.binding.tenant_id);
    if (!tenant) throw new InteractionExpired();
    return { interaction, tenant };
  };
}
