import { createHash, randomBytes } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { disableTwoFactor } from '../../flows/account/disable-two-factor.js';
import { unlockAccountPage } from '../../flows/account/unlock-account-page.js';
import { changePassword } from '../../flows/account/change-password.js';
import type { FlowDependencies } from '../../flows/dependencies.js';
import { beginEnrollment, enrollmentScreen } from '../../flows/enrollment/begin-enrollment.js';
import { confirmEnrollment } from '../../flows/enrollment/confirm-enrollment.js';
import { ACCOUNT_CLIENT_ID, ACCOUNT_CLIENT_PARAM } from '../../oidc/account-client.js';
import { clientBinding } from '../../oidc/client-binding.js';
import type { AccountSessions } from '../../oidc/sessions.js';
import type Provider from 'oidc-provider';
import { twoFactorRequirement } from '../../policy/second-factor.js';
import type { AccountPageState } from '../../stores/account-page-state.js';
import type { Csrf } from '../csrf.js';
import { fields, submittedForm } from '../forms.js';
import { screenRenderer } from '../screens.js';
import { chooseLocale, type Views } from '../views.js';

export interface AccountRouteDeps {
  flows: FlowDependencies;
  pageState: AccountPageState;
  sessions: AccountSessions;
  provider: Provider;
  issuer: string;
  views: Views;
  csrf: Csrf;
}

const unlockForm = z.object({ current_password: fields.current_password });
const codeForm = z.object({ code: fields.code });
const emptyForm = z.object({});
const NOTICES = new Set(['enabled', 'disabled', 'unlocked', 'password_changed']);
const passwordForm = z.object({ current_password: fields.current_password, password: fields.password });
const STATE_COOKIE = 'sleutel.account-login';

/**
 * The account page (docs/rules.md, rules 6 and 9): 2FA status; "Ontgrendel" with the password; enable
 * (QR code, key, a code to confirm, the recovery code once); disable after a confirmation.
 * Someone without a Sleutel session signs in through the normal login, as the built-in account
 * client, for the cooperative and pool of the relying party they came from (`?client_id=`).
 */
export function accountRoutes(deps: AccountRouteDeps): Router {
  const router = new Router({ prefix: '/account' });
  const { flows } = deps;
  const home = '/account/two-factor';

  const page = screenRenderer(deps);

  const back = (ctx: Context, notice?: string) => {
    ctx.status = 303;
    ctx.redirect(notice ? `${home}?notice=${notice}` : home);
  };

  /** The signed-in account, its cooperative and whether the page is unlocked; undefined without a session. */
  const current = async (ctx: Context) => {
    ctx.state.locale = chooseLocale(typeof ctx.query.ui_locales === 'string' ? ctx.query.ui_locales : undefined, ctx.get('accept-language'));
    const session = await deps.sessions.current(ctx);
    const account = session && (await flows.accounts.findById(session.accountId));
    const tenant = account && (await flows.tenants.findById(account.tenantId));
    if (!session || !account || !tenant || account.disabled) return undefined;
    const unlocked = await deps.pageState.isUnlocked(session.sessionUid, account.id);
    return { account, tenant, sessionUid: session.sessionUid, unlocked };
  };

  /** The page for a signed-in person: status, and what they may do now. */
  const overview = async (ctx: Context, me: NonNullable<Awaited<ReturnType<typeof current>>>, extra: { error?: string; status?: number } = {}) => {
    const enabled = await flows.secondFactors.isEnabled(me.account.id);
    const requirement = twoFactorRequirement(me.account.pool, me.tenant.policy, me.account.twoFactorRequired);
    const pending = me.unlocked && !enabled ? await deps.pageState.pendingEnrollment(me.sessionUid) : undefined;
    const common = { tenantName: me.tenant.name, error: extra.error };
    if (pending) {
      const screen = await enrollmentScreen(flows, me.account, me.tenant, pending);
      return page(ctx, 'enroll', { ...common, ...screen, action: `${home}/confirm`, cancel: `${home}/cancel` }, extra.status);
    }
    const notice = typeof ctx.query.notice === 'string' && NOTICES.has(ctx.query.notice) ? `account.notice_${ctx.query.notice}` : undefined;
    page(
      ctx,
      'account',
      {
        ...common,
        notice,
        email: me.account.email,
        enabled,
        unlocked: me.unlocked,
        required: requirement.required,
        requiredBy: requirement.requiredBy,
        minimum: me.tenant.policy.min_password_length[me.account.pool],
      },
      extra.status,
    );
  };

  /** No session: sign in as the account client for the relying party's cooperative and pool. */
  const signIn = async (ctx: Context) => {
    const clientId = typeof ctx.query.client_id === 'string' ? ctx.query.client_id : undefined;
    const client = clientId && clientId.length <= 128 && clientId !== ACCOUNT_CLIENT_ID ? await deps.provider.Client.find(clientId) : undefined;
    if (!client || !clientBinding(client)?.pool) return page(ctx, 'error', { messageKey: 'account.signed_out' }, 401);
    const state = randomBytes(16).toString('base64url');
    ctx.cookies.set(STATE_COOKIE, state, { httpOnly: true, sameSite: 'lax', secure: ctx.secure, maxAge: 3600_000, signed: true, overwrite: true });
    // PKCE is required of every client; the account client never redeems its code (the session is what it needs)
    const challenge = createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url');
    const query = new URLSearchParams({
      client_id: ACCOUNT_CLIENT_ID,
      [ACCOUNT_CLIENT_PARAM]: clientId!,
      response_type: 'code',
      scope: 'openid',
      redirect_uri: `${deps.issuer}/account/callback`,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state,
      ui_locales: ctx.state.locale,
    });
    ctx.redirect(`/auth?${query}`);
  };

  router.get('/', (ctx) => ctx.redirect(home));

  router.get('/two-factor', async (ctx) => {
    const me = await current(ctx);
    if (!me) return signIn(ctx);
    await overview(ctx, me);
  });

  router.get('/callback', async (ctx) => {
    ctx.state.locale = chooseLocale(undefined, ctx.get('accept-language'));
    const expected = ctx.cookies.get(STATE_COOKIE, { signed: true });
    ctx.cookies.set(STATE_COOKIE, null);
    if (!expected || ctx.query.state !== expected || typeof ctx.query.code !== 'string') return page(ctx, 'error', { messageKey: 'account.sign_in_failed' }, 400);
    back(ctx);
  });

  router.post('/two-factor/unlock', async (ctx) => {
    const me = await current(ctx);
    if (!me) return page(ctx, 'error', { messageKey: 'account.signed_out' }, 401);
    const form = await submittedForm(ctx, deps.csrf, unlockForm);
    if (!form.ok) return overview(ctx, me, { error: form.messageKey, status: form.status });
    const outcome = await unlockAccountPage({ ...flows, pageState: deps.pageState }, { account: me.account, sessionUid: me.sessionUid, password: form.data.current_password, ip: ctx.ip, locale: ctx.state.locale });
    if (outcome.result === 'wrong_password') return overview(ctx, me, { error: 'account.wrong_password', status: 401 });
    if (outcome.result === 'locked') return page(ctx, 'error', { messageKey: 'challenge.locked', minutes: Math.ceil(outcome.seconds / 60) }, 429);
    back(ctx, 'unlocked');
  });

  /** The state-changing actions need a session, a valid form and a fresh unlock. */
  const unlockedAction = async (ctx: Context, schema: z.ZodType = emptyForm) => {
    const me = await current(ctx);
    if (!me) {
      page(ctx, 'error', { messageKey: 'account.signed_out' }, 401);
      return undefined;
    }
    const form = await submittedForm(ctx, deps.csrf, schema);
    if (!form.ok) {
      await overview(ctx, me, { error: form.messageKey, status: form.status });
      return undefined;
    }
    if (!me.unlocked) {
      await overview(ctx, me, { error: 'account.unlock_expired', status: 403 });
      return undefined;
    }
    return { me, data: form.data as Record<string, string> };
  };

  router.post('/two-factor/enable', async (ctx) => {
    const action = await unlockedAction(ctx);
    if (!action) return;
    if (!(await flows.secondFactors.isEnabled(action.me.account.id))) {
      await deps.pageState.savePendingEnrollment(action.me.sessionUid, beginEnrollment(flows, action.me.account));
    }
    back(ctx);
  });

  router.post('/two-factor/cancel', async (ctx) => {
    const action = await unlockedAction(ctx);
    if (!action) return;
    await deps.pageState.clearPendingEnrollment(action.me.sessionUid);
    back(ctx);
  });

  router.post('/two-factor/confirm', async (ctx) => {
    const action = await unlockedAction(ctx, codeForm);
    if (!action) return;
    const { me, data } = action;
    const pending = await deps.pageState.pendingEnrollment(me.sessionUid);
    if (!pending) return back(ctx);
    const outcome = await confirmEnrollment(flows, { account: me.account, sealedSecret: pending, code: data.code!, ip: ctx.ip, locale: ctx.state.locale });
    if (!outcome.ok && outcome.reason !== 'already_enabled') return overview(ctx, me, { error: 'enroll.wrong_code', status: 400 });
    await deps.pageState.clearPendingEnrollment(me.sessionUid);
    if (!outcome.ok) return back(ctx);
    page(ctx, 'recovery-code', { tenantName: me.tenant.name, recoveryCode: outcome.recoveryCode });
  });

  router.post('/password', async (ctx) => {
    const me = await current(ctx);
    if (!me) return page(ctx, 'error', { messageKey: 'account.signed_out' }, 401);
    const form = await submittedForm(ctx, deps.csrf, passwordForm);
    if (!form.ok) return overview(ctx, me, { error: form.messageKey, status: form.status });
    const outcome = await changePassword(flows, {
      account: me.account,
      tenant: me.tenant,
      currentPassword: form.data.current_password,
      newPassword: form.data.password,
      sessionUid: me.sessionUid,
      ip: ctx.ip,
      locale: ctx.state.locale,
    });
    if (outcome.result === 'wrong_password') return overview(ctx, me, { error: 'account.wrong_password', status: 401 });
    if (outcome.result === 'locked') return page(ctx, 'error', { messageKey: 'challenge.locked', minutes: Math.ceil(outcome.seconds / 60) }, 429);
    if (outcome.result === 'rejected') return overview(ctx, me, { error: `password.${outcome.problem}`, status: 400 });
    back(ctx, 'password_changed');
  });

  router.post('/two-factor/disable', async (ctx) => {
    const action = await unlockedAction(ctx);
    if (!action) return;
    const { me } = action;
    const requirement = twoFactorRequirement(me.account.pool, me.tenant.policy, me.account.twoFactorRequired);
    if (requirement.required) return overview(ctx, me, { error: `account.required_by_${requirement.requiredBy}`, status: 409 });
    page(ctx, 'disable-confirm', { tenantName: me.tenant.name });
  });

  router.post('/two-factor/disable/confirm', async (ctx) => {
    const action = await unlockedAction(ctx);
    if (!action) return;
    const { me } = action;
    const outcome = await disableTwoFactor(flows, { account: me.account, tenant: me.tenant, sessionUid: me.sessionUid, ip: ctx.ip, locale: ctx.state.locale });
    if (!outcome.disabled) return overview(ctx, me, { error: `account.required_by_${outcome.requiredBy}`, status: 409 });
    back(ctx, 'disabled');
  });

  return router;
}
