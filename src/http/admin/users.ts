import Router from '@koa/router';
import { z } from 'zod';
import type { AccountView } from '../../admin/account-view.js';
import { createAccount, getAccount, unblockAccount, updateAccount } from '../../admin/accounts.js';
import { resetTwoFactor, setTwoFactorRequirement } from '../../admin/two-factor.js';
import { mayChangeAccount, type AccountChange } from '../../policy/dominance.js';
import { permission, type AdminAction } from '../../policy/permissions.js';
import type { Role } from '../../stores/accounts.js';
import { fields } from '../forms.js';
import { accountIdOf, emptyForm, strictQuery, type ConsoleKit, type Operator } from './console.js';
import { poolScreens } from './pool-screens.js';

const yesNo = z.enum(['yes', 'no'], { error: 'form.invalid_field' });
const checkbox = z.literal('on', { error: 'form.invalid_field' }).optional();
const requiredForm = z.object({ required: yesNo });
const disabledForm = z.object({ disabled: yesNo });
const rolesForm = z.object({ key_user: checkbox, coop_admin: checkbox });
const name = z.string({ error: 'form.invalid_field' }).trim().max(200, 'form.invalid_field');
const detailsForm = z.object({ name, email: fields.email });
const inviteForm = z.object({ email: fields.email, name: name.optional(), key_user: checkbox, coop_admin: checkbox });

const rolesOf = (data: { key_user?: string; coop_admin?: string }): Role[] =>
  [data.key_user && 'key_user', data.coop_admin && 'coop_admin'].filter(Boolean) as Role[];

/**
 * Which controls the account's page shows: those the role table (per pool) and the dominance rule
 * (per account) allow this operator. Only a convenience — the use cases decide every action again.
 */
function controlsFor(me: Operator, account: AccountView) {
  const target = { id: account.id, roles: account.roles as Role[] };
  const may = (action: AdminAction, change: AccountChange) =>
    permission(me.actor, action, 'staff') === 'allowed' && mayChangeAccount(me.actor, change, target).allowed;
  return {
    require: may('require_two_factor', 'require_two_factor'),
    reset: may('reset_two_factor', 'reset_two_factor'),
    unblock: may('manage_accounts', 'unblock'),
    disable: may('manage_accounts', 'disabled'),
    roles: may('manage_accounts', 'roles'),
    details: may('manage_accounts', 'name'),
    /** the roles this operator could grant or take (only ones they hold) */
    grantable: me.account.roles,
    outranked: !mayChangeAccount(me.actor, 'name', target).allowed,
  };
}

/**
 * "Instellingen > Gebruikers": the staff list (searchable, paged) and per user: "Verplicht voor deze
 * gebruiker", reset (after a confirmation), unblock, disable/enable, roles, name and e-mail; and
 * inviting a new user. Every action is one admin use case; the routes only read forms and redirect.
 */
export function userRoutes(kit: ConsoleKit, deps: { flows: Parameters<typeof getAccount>[0] }): Router {
  const router = new Router({ prefix: '/admin/:slug/users' });
  const { flows } = deps;

  const { account: staffAccount, list } = poolScreens(kit, flows, 'staff');

  router.get('/', list('admin-users', 'users', 'admin.users_title'));

  router.get('/new', kit.guard(async (ctx) => {
    const me = await kit.viewer(ctx);
    if (!me) return;
    kit.show(ctx, me, 'admin-invite', 'users', { title: 'admin.invite_title' });
  }));

  router.post('/', kit.guard(async (ctx) => {
    const { me, data } = await kit.action(ctx, inviteForm);
    const roles = rolesOf(data);
    const created = await createAccount(flows, me.actor, me.slug, { pool: 'staff', email: data.email, name: data.name, roles, invite: true }, ctx.ip);
    kit.back(ctx, me, `/users/${created.id}`, 'invited');
  }));

  router.get('/:id', kit.guard(async (ctx) => {
    const me = await kit.viewer(ctx);
    if (!me) return;
    strictQuery(ctx, ['notice']);
    const account = await staffAccount(me, accountIdOf(ctx), ctx.ip);
    kit.show(ctx, me, 'admin-user', 'users', { title: 'admin.user_title', account, can: controlsFor(me, account) });
  }));

  router.post('/:id/required', kit.guard(async (ctx) => {
    const { me, data } = await kit.action(ctx, requiredForm);
    const account = await staffAccount(me, accountIdOf(ctx), ctx.ip);
    await setTwoFactorRequirement(flows, me.actor, me.slug, account.id, data.required === 'yes', ctx.ip);
    kit.back(ctx, me, `/users/${account.id}`, data.required === 'yes' ? 'required_on' : 'required_off');
  }));

  router.get('/:id/reset', kit.guard(async (ctx) => {
    const me = await kit.viewer(ctx);
    if (!me) return;
    const account = await staffAccount(me, accountIdOf(ctx), ctx.ip);
    kit.show(ctx, me, 'admin-confirm', 'users', {
      title: 'admin.reset_title',
      subject: account.email,
      lines: [account.two_factor.required ? 'admin.reset_staff_required' : 'admin.reset_staff_optional', 'admin.reset_sessions'],
      action: `/admin/${me.slug}/users/${account.id}/reset`,
      confirm: 'admin.reset_confirm',
      cancel: `/admin/${me.slug}/users/${account.id}`,
    });
  }));

  router.post('/:id/reset', kit.guard(async (ctx) => {
    const { me } = await kit.action(ctx, emptyForm);
    const account = await staffAccount(me, accountIdOf(ctx), ctx.ip);
    await resetTwoFactor(flows, me.actor, me.slug, account.id, ctx.ip);
    kit.back(ctx, me, `/users/${account.id}`, 'reset');
  }));

  router.post('/:id/unblock', kit.guard(async (ctx) => {
    const { me } = await kit.action(ctx, emptyForm);
    const account = await staffAccount(me, accountIdOf(ctx), ctx.ip);
    await unblockAccount(flows, me.actor, me.slug, account.id, ctx.ip);
    kit.back(ctx, me, `/users/${account.id}`, 'unblocked');
  }));

  router.post('/:id/disabled', kit.guard(async (ctx) => {
    const { me, data } = await kit.action(ctx, disabledForm);
    const account = await staffAccount(me, accountIdOf(ctx), ctx.ip);
    await updateAccount(flows, me.actor, me.slug, account.id, { disabled: data.disabled === 'yes' }, ctx.ip);
    kit.back(ctx, me, `/users/${account.id}`, data.disabled === 'yes' ? 'disabled' : 'enabled');
  }));

  router.post('/:id/roles', kit.guard(async (ctx) => {
    const { me, data } = await kit.action(ctx, rolesForm);
    const account = await staffAccount(me, accountIdOf(ctx), ctx.ip);
    await updateAccount(flows, me.actor, me.slug, account.id, { roles: rolesOf(data) }, ctx.ip);
    kit.back(ctx, me, `/users/${account.id}`, 'roles');
  }));

  router.post('/:id/details', kit.guard(async (ctx) => {
    const { me, data } = await kit.action(ctx, detailsForm);
    const account = await staffAccount(me, accountIdOf(ctx), ctx.ip);
    const patch: { name?: string; email?: string } = {};
    if (data.name !== account.name) patch.name = data.name;
    if (data.email.toLowerCase() !== account.email.toLowerCase()) patch.email = data.email;
    const updated = (await updateAccount(flows, me.actor, me.slug, account.id, patch, ctx.ip)) as AccountView & { pending_email?: string };
    kit.back(ctx, me, `/users/${account.id}`, updated.pending_email ? 'pending_email' : 'updated');
  }));

  return router;
}
