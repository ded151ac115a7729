import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { FlowDependencies } from '../../flows/dependencies.js';
import { completePasswordReset } from '../../flows/password/complete-password-reset.js';
import { requestPasswordReset } from '../../flows/password/request-password-reset.js';
import type { Interactions } from '../../oidc/interactions.js';
import type { Csrf } from '../csrf.js';
import { fields, submittedForm } from '../forms.js';
import { interactionLoader, screenRenderer } from '../screens.js';
import { chooseLocale, type Views } from '../views.js';

const forgotForm = z.object({ email: fields.email });
const resetForm = z.object({ token: z.string().max(100), password: fields.password });

/**
 * docs/rules.md, rule 12: "Wachtwoord vergeten" from the login screen (it knows the cooperative
 * and pool), and the page behind the mailed link, which also serves invitations.
 */
export function passwordRoutes(deps: { flows: FlowDependencies; interactions: Interactions; views: Views; csrf: Csrf; background?: (work: Promise<void>) => void }): Router {
  const router = new Router();
  const { flows } = deps;

  const page = screenRenderer(deps);
  const loadInteraction = interactionLoader({ interactions: deps.interactions, tenants: flows.tenants });

  router.get('/interaction/:uid/forgot', async (ctx) => {
    const { interaction, tenant } = await loadInteraction(ctx);
    page(ctx, 'forgot', { uid: interaction.uid, tenantName: tenant.name });
  });

  router.post('/interaction/:uid/forgot', async (ctx) => {
    const { interaction, tenant } = await loadInteraction(ctx);
    const form = await submittedForm(ctx, deps.csrf, forgotForm);
    if (!form.ok) return page(ctx, 'forgot', { uid: interaction.uid, tenantName: tenant.name, error: form.messageKey }, form.status);
    const { background } = await requestPasswordReset(flows, { tenantId: tenant.id, pool: interaction.binding.pool!, email: form.data.email, ip: ctx.ip, locale: ctx.state.locale });
    deps.background?.(background);
    page(ctx, 'forgot', { uid: interaction.uid, tenantName: tenant.name, sent: true, notice: 'forgot.sent' });
  });

  const resetPage = async (ctx: Context, token: unknown, extra: { error?: string; status?: number } = {}) => {
    const record = await flows.passwordTokens.peek(token);
    const account = record && (await flows.accounts.findById(record.accountId));
    const tenant = account && (await flows.tenants.findById(account.tenantId));
    if (!record || !account || !tenant) return page(ctx, 'error', { messageKey: 'reset.invalid_link' }, 400);
    const minimum = tenant.policy.min_password_length[account.pool];
    page(ctx, 'reset', { token, tenantName: tenant.name, invitation: record.purpose === 'invitation', error: extra.error, minimum }, extra.status);
  };

  router.get('/password/reset', async (ctx) => {
    ctx.state.locale = chooseLocale(undefined, ctx.get('accept-language'));
    await resetPage(ctx, ctx.query.token);
  });

  router.post('/password/reset', async (ctx) => {
    ctx.state.locale = chooseLocale(undefined, ctx.get('accept-language'));
    const form = await submittedForm(ctx, deps.csrf, resetForm);
    if (!form.ok) return resetPage(ctx, form.raw.token, { error: form.messageKey, status: form.status });
    const outcome = await completePasswordReset(flows, { token: form.data.token, password: form.data.password, ip: ctx.ip, locale: ctx.state.locale });
    if (outcome.result === 'invalid_link') return page(ctx, 'error', { messageKey: 'reset.invalid_link' }, 400);
    if (outcome.result === 'rejected') return resetPage(ctx, form.data.token, { error: `password.${outcome.problem}`, status: 400 });
    page(ctx, 'reset-done', { invitation: outcome.purpose === 'invitation' });
  });

  return router;
}
