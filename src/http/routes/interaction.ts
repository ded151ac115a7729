import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { signInWithPassword } from '../../flows/login/sign-in-with-password.js';
import { authenticationLevel } from '../../policy/authentication-level.js';
import type { AccountStore } from '../../stores/accounts.js';
import type { AuditLog } from '../../stores/audit-events.js';
import type { TenantStore } from '../../stores/tenants.js';
import type { Interactions, PendingInteraction } from '../../oidc/interactions.js';
import { CsrfRejected, type Csrf } from '../csrf.js';
import { fields, FormInvalid, readForm, validate } from '../forms.js';
import { chooseLocale, type Views } from '../views.js';

export interface InteractionRouteDeps {
  interactions: Interactions;
  accounts: AccountStore;
  tenants: TenantStore;
  audit: AuditLog;
  views: Views;
  csrf: Csrf;
}

const loginForm = z.object({ email: fields.email, password: fields.password });

/**
 * The screens of an authorization request: /interaction/:uid (what to show) and its form posts.
 * Thin: read the form, call the flow, render or finish.
 */
export function interactionRoutes(deps: InteractionRouteDeps): Router {
  const router = new Router({ prefix: '/interaction/:uid' });

  const renderLogin = async (ctx: Context, interaction: PendingInteraction, extra: { email?: string; error?: string }) => {
    const tenant = await deps.tenants.findById(interaction.binding.tenant_id);
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = deps.views.render('login', ctx.state.locale, {
      uid: interaction.uid,
      csrf: deps.csrf.token(ctx),
      tenantName: tenant?.name,
      email: extra.email ?? interaction.params.login_hint,
      error: extra.error,
    });
  };

  const load = async (ctx: Context) => {
    const interaction = await deps.interactions.load(ctx);
    ctx.state.locale = chooseLocale(interaction.params.ui_locales, ctx.get('accept-language'));
    return interaction;
  };

  router.get('/', async (ctx) => {
    const interaction = await load(ctx);
    if (interaction.prompt === 'consent') {
      await deps.interactions.approveConsent(ctx);
      return;
    }
    await renderLogin(ctx, interaction, {});
  });

  router.post('/login', async (ctx) => {
    const interaction = await load(ctx);
    let email: string | undefined;
    try {
      const body = await readForm(ctx);
      email = typeof body.email === 'string' && body.email.length <= 320 ? body.email : undefined;
      deps.csrf.verify(ctx, body.csrf);
      const form = validate(loginForm, body);
      const outcome = await signInWithPassword(deps, {
        tenantId: interaction.binding.tenant_id,
        pool: interaction.binding.pool!,
        email: form.email,
        password: form.password,
        ip: ctx.ip,
        clientId: interaction.clientId,
      });
      if (!outcome.ok) {
        ctx.status = 401;
        await renderLogin(ctx, interaction, { email: form.email, error: 'login.failed' });
        return;
      }
      await deps.audit.record({
        type: 'login.succeeded',
        tenantId: outcome.account.tenantId,
        accountId: outcome.account.id,
        actor: `account:${outcome.account.id}`,
        ip: ctx.ip,
        details: { client_id: interaction.clientId, factors: ['pwd'] },
      });
      await deps.interactions.finishLogin(ctx, { accountId: outcome.account.id, ...authenticationLevel({ password: true }) });
    } catch (error) {
      if (!(error instanceof FormInvalid || error instanceof CsrfRejected)) throw error;
      ctx.status = error.status;
      await renderLogin(ctx, interaction, { email, error: error.messageKey });
    }
  });

  router.get('/abort', async (ctx) => {
    await load(ctx);
    await deps.interactions.abort(ctx);
  });

  return router;
}
