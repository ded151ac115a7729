import Router from '@koa/router';
import { z } from 'zod';
import type { AdminDependencies } from '../../admin/context.js';
import { getPolicy, setPolicy } from '../../admin/tenant-policy.js';
import { Forbidden } from '../../errors.js';
import { permission } from '../../policy/permissions.js';
import { MAX_ISSUER_LENGTH, MAX_REMEMBER_HOURS } from '../../policy/tenant-policy.js';
import { type ConsoleKit, type Operator } from './console.js';

const hours = z
  .string({ error: 'form.invalid_field' })
  .regex(/^[0-9]{1,3}$/, 'admin.hours_invalid')
  .transform(Number)
  .refine((n) => n <= MAX_REMEMBER_HOURS, 'admin.hours_invalid');
const label = z.string({ error: 'form.invalid_field' }).trim().max(MAX_ISSUER_LENGTH, 'admin.label_too_long');
const settingsForm = z.object({
  remember_staff: hours,
  remember_portal: hours,
  forget_on_logout: z.literal('on', { error: 'form.invalid_field' }).optional(),
  issuer_staff: label,
  issuer_portal: label,
});
const requireAllForm = z.object({ require_all: z.enum(['yes', 'no'], { error: 'form.invalid_field' }) });

/**
 * "Instellingen > Coöperatie" (coop_admin only): "Verplichten voor alle gebruikers" with the
 * manual's warning and how many staff it affects right now (the policy preview) on a confirmation
 * step; the remember hours per pool, forget-on-logout and the authenticator labels. The screens
 * are hidden from others; the actions themselves are refused by setPolicy (403), whoever forges them.
 */
export function cooperationRoutes(kit: ConsoleKit, deps: { flows: AdminDependencies }): Router {
  const router = new Router({ prefix: '/admin/:slug/cooperation' });
  const { flows } = deps;

  const onlyCoopAdmin = (me: Operator) => {
    if (permission(me.actor, 'set_policy', 'tenant') !== 'allowed') throw new Forbidden('error.forbidden', 'the cooperation screen is for coop_admin');
  };

  router.get('/', kit.guard(async (ctx) => {
    const me = await kit.viewer(ctx);
    if (!me) return;
    onlyCoopAdmin(me);
    const { policy } = await getPolicy(flows, me.actor, me.slug, false, ctx.ip);
    kit.show(ctx, me, 'admin-cooperation', 'cooperation', { title: 'admin.cooperation_title', policy });
  }));

  router.get('/require-all', kit.guard(async (ctx) => {
    const me = await kit.viewer(ctx);
    if (!me) return;
    onlyCoopAdmin(me);
    const preview = await getPolicy(flows, me.actor, me.slug, true, ctx.ip);
    if (preview.policy.require_two_factor_for_all_staff) return kit.back(ctx, me, '/cooperation');
    kit.show(ctx, me, 'admin-confirm', 'cooperation', {
      title: 'admin.require_all_title',
      warning: 'admin.require_all_warning',
      lines: ['admin.require_all_warning_active', 'admin.require_all_affected'],
      affected: preview.affected_accounts ?? 0,
      action: `/admin/${me.slug}/cooperation/require-all`,
      hidden: { require_all: 'yes' },
      confirm: 'admin.require_all_confirm',
      cancel: `/admin/${me.slug}/cooperation`,
    });
  }));

  router.post('/require-all', kit.guard(async (ctx) => {
    const { me, data } = await kit.action(ctx, requireAllForm);
    await setPolicy(flows, me.actor, me.slug, { require_two_factor_for_all_staff: data.require_all === 'yes' }, ctx.ip);
    kit.back(ctx, me, '/cooperation', data.require_all === 'yes' ? 'require_all_on' : 'require_all_off');
  }));

  router.post('/settings', kit.guard(async (ctx) => {
    const { me, data } = await kit.action(ctx, settingsForm);
    const issuer: Record<string, string> = {};
    if (data.issuer_staff) issuer.staff = data.issuer_staff;
    if (data.issuer_portal) issuer.portal = data.issuer_portal;
    await setPolicy(
      flows,
      me.actor,
      me.slug,
      {
        remember_two_factor_hours: { staff: data.remember_staff, portal: data.remember_portal },
        forget_two_factor_on_logout: data.forget_on_logout === 'on',
        totp_issuer: issuer,
      },
      ctx.ip,
    );
    kit.back(ctx, me, '/cooperation', 'policy');
  }));

  return router;
}
