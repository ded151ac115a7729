import Router from '@koa/router';
import type { AdminDependencies } from '../../admin/context.js';
import { resetTwoFactor } from '../../admin/two-factor.js';
import { accountIdOf, emptyForm, type ConsoleKit } from './console.js';
import { poolScreens } from './pool-screens.js';

/**
 * "Portal gebruiker gegevens > Twee factor authenticatie > reset": the contact portal's users,
 * searchable, with their 2FA status and only a reset (rule 5: nobody requires or enables 2FA for
 * a member). After a reset the member logs in with the password alone and may enable it again.
 */
export function portalRoutes(kit: ConsoleKit, deps: { flows: AdminDependencies }): Router {
  const router = new Router({ prefix: '/admin/:slug/portal' });
  const { flows } = deps;

  const { account: portalAccount, list } = poolScreens(kit, flows, 'portal');

  router.get('/', list('admin-portal', 'portal', 'admin.portal_title'));

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
