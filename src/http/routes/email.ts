import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { confirmEmailChange } from '../../flows/account/confirm-email-change.js';
import type { FlowDependencies } from '../../flows/dependencies.js';
import type { Csrf } from '../csrf.js';
import { submittedForm } from '../forms.js';
import { screenRenderer } from '../screens.js';
import { chooseLocale, type Views } from '../views.js';

const confirmForm = z.object({ token: z.string().max(100) });

/**
 * The link mailed to a new e-mail address. Opening it only shows a button: mail scanners and
 * link previews open links by themselves, so only the POST (with its CSRF token) confirms.
 */
export function emailRoutes(deps: { flows: FlowDependencies; views: Views; csrf: Csrf }): Router {
  const router = new Router();
  const { flows } = deps;
  const page = screenRenderer(deps);

  const withLocale = (ctx: Context) => {
    ctx.state.locale = chooseLocale(undefined, ctx.get('accept-language'));
  };

  const tenantNameOf = async (accountId: string) => {
    const account = await flows.accounts.findById(accountId);
    return account && (await flows.tenants.findById(account.tenantId))?.name;
  };

  router.get('/email/confirm', async (ctx) => {
    withLocale(ctx);
    const change = await flows.emailChanges.peek(ctx.query.token);
    const tenantName = change && (await tenantNameOf(change.accountId));
    if (!change || !tenantName) return page(ctx, 'error', { messageKey: 'email.invalid_link' }, 400);
    page(ctx, 'email-confirm', { token: ctx.query.token, email: change.email, tenantName });
  });

  router.post('/email/confirm', async (ctx) => {
    withLocale(ctx);
    const form = await submittedForm(ctx, deps.csrf, confirmForm);
    if (!form.ok) return page(ctx, 'error', { messageKey: form.messageKey }, form.status);
    const outcome = await confirmEmailChange(flows, { token: form.data.token, ip: ctx.ip });
    if (outcome.result === 'invalid_link') return page(ctx, 'error', { messageKey: 'email.invalid_link' }, 400);
    if (outcome.result === 'address_taken') return page(ctx, 'error', { messageKey: 'email.address_taken' }, 409);
    const tenantName = (await flows.tenants.findById(outcome.account.tenantId))?.name;
    page(ctx, 'email-confirm', { done: true, email: outcome.account.email, tenantName });
  });

  return router;
}
