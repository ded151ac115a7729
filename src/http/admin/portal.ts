import Router from '@koa/router';
import { getAccount } from '../../admin/accounts.js';
import type { AdminDependencies } from '../../admin/context.js';
import { searchAccounts } from '../../admin/search-accounts.js';
import { resetTwoFactor } from '../../admin/two-factor.js';
import { NotFound } from '../../errors.js';
import { accountIdOf, checkPage, emptyForm, PAGE_SIZE, pageNumber, searchText, strictQuery, type ConsoleKit, type Operator } from './console.js';

/**
 * "Portal gebruiker gegevens > Twee factor authenticatie > reset": the contact portal's users,
 * searchable, with their 2FA status and only a reset (rule 5: nobody requires or enables 2FA for
 * a member). After a reset the member logs in with the password alone and may enable it again.
 */
export function portalRoutes(kit: ConsoleKit, deps: { flows: AdminDependencies }): Router {
  const router = new Router({ prefix: '/admin/:slug/portal' });
  const { flows } = deps;

  const portalAccount = async (me: Operator, id: string, ip: string) => {
    const view = await getAccount(flows, me.actor, me.slug, id, ip);
    if (view.pool !== 'portal') throw new NotFound('error.not_found', 'not a portal account');
    return view;
  };

  router.get('/', kit.guard(async (ctx) => {
    const me = await kit.viewer(ctx);
    if (!me) return;
    const query = strictQuery(ctx, ['q', 'page', 'notice']);
    const q = searchText(query.q);
    const page = pageNumber(query.page);
    const found = await searchAccounts(flows, me.actor, me.slug, { pool: 'portal', query: q, offset: (page - 1) * PAGE_SIZE, limit: PAGE_SIZE }, ctx.ip);
    const pages = checkPage(page, found.total, PAGE_SIZE);
    kit.show(ctx, me, 'admin-portal', 'portal', { title: 'admin.portal_title', accounts: found.accounts, total: found.total, q, page, pages });
  }));

  router.get('/:id/reset', kit.guard(async (ctx) => {
    const me = await kit.viewer(ctx);
    if (!me) return;
    const account = await portalAccount(me, accountIdOf(ctx), ctx.ip);
    kit.show(ctx, me, 'admin-confirm', 'portal', {
      title: 'admin.reset_title',
      subject: account.email,
      lines: ['admin.reset_portal', 'admin.reset_sessions'],
      action: `/admin/${me.slug}/portal/${account.id}/reset`,
      confirm: 'admin.reset_confirm',
      cancel: `/admin/${me.slug}/portal`,
    });
  }));

  router.post('/:id/reset', kit.guard(async (ctx) => {
    const { me } = await kit.action(ctx, emptyForm);
    const account = await portalAccount(me, accountIdOf(ctx), ctx.ip);
    await resetTwoFactor(flows, me.actor, me.slug, account.id, ctx.ip);
    kit.back(ctx, me, `/portal?q=${encodeURIComponent(account.email)}`, 'reset');
  }));

  return router;
}
