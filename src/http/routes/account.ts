import { randomBytes } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { AccountPage, AccountScreen, AccountVisitor } from '../../flows/account/account-page.js';
import type { AccountSignIn } from '../../oidc/account-sign-in.js';
import type { AccountSessions } from '../../oidc/sessions.js';
import type { BrowserCookie } from '../browser-cookie.js';
import type { Csrf } from '../csrf.js';
import { fields, submittedForm } from '../forms.js';
import { screenRenderer } from '../screens.js';
import { chooseLocale, type Views } from '../views.js';

export interface AccountRouteDeps {
  page: AccountPage;
  sessions: AccountSessions;
  signIn: AccountSignIn;
  views: Views;
  csrf: Csrf;
  browser: BrowserCookie;
}

const unlockForm = z.object({ current_password: fields.current_password });
const codeForm = z.object({ code: fields.code });
const emptyForm = z.object({});
const NOTICES = new Set(['enabled', 'disabled', 'unlocked', 'password_changed', 'browser_forgotten', 'browsers_forgotten', 'passkey_added', 'passkey_removed']);
// a remembered browser's id on the page: the hash of its token (src/stores/remembrances.ts)
const browserForm = z.object({ browser: z.string({ error: 'form.invalid_field' }).regex(/^[A-Za-z0-9_-]{43}$/, 'form.invalid_field') });
const passkeyForm = z.object({ passkey_name: fields.passkey_name, webauthn_response: fields.webauthn_response });
const passwordForm = z.object({ current_password: fields.current_password, password: fields.password });
const STATE_COOKIE = 'sleutel.account-login';

/**
 * The account page's routes (docs/rules.md, rules 6 and 9); what each action does is
 * src/flows/account/account-page.ts. Someone without a Sleutel session signs in through the
 * normal login, as the built-in account client, for the cooperative and pool of the relying party
 * they came from (`?client_id=`).
 */
export function accountRoutes(deps: AccountRouteDeps): Router {
  const router = new Router({ prefix: '/account' });
  const home = '/account/two-factor';
  const page = screenRenderer(deps);

  /** The signed-in person; undefined without a session. */
  const current = async (ctx: Context) => {
    ctx.state.locale = chooseLocale(typeof ctx.query.ui_locales === 'string' ? ctx.query.ui_locales : undefined, ctx.get('accept-language'));
    return deps.page.visitor(await deps.sessions.current(ctx), { tokenFor: (accountId) => deps.browser.read(ctx, accountId) });
  };

  const render = (ctx: Context, me: AccountVisitor, screen: AccountScreen) => {
    const tenantName = me.tenant.name;
    switch (screen.show) {
      case 'overview': {
        const notice = typeof ctx.query.notice === 'string' && NOTICES.has(ctx.query.notice) ? `account.notice_${ctx.query.notice}` : undefined;
        const { show: _, status, ...data } = screen;
        return page(ctx, 'account', { tenantName, ...data, notice }, status);
      }
      case 'enroll':
        return page(ctx, 'enroll', { tenantName, error: screen.error, ...screen.enrollment, action: `${home}/confirm`, cancel: `${home}/cancel` }, screen.status);
      case 'recovery-code':
        return page(ctx, 'recovery-code', { tenantName, recoveryCode: screen.recoveryCode });
      case 'disable-confirm':
        return page(ctx, 'disable-confirm', { tenantName });
      case 'passkey-remove-confirm':
        return page(ctx, 'passkey-remove-confirm', { tenantName, passkey: screen.passkey });
      case 'locked':
        return page(ctx, 'error', { messageKey: 'challenge.locked', minutes: screen.minutes }, 429);
      case 'back':
        ctx.status = 303;
        return ctx.redirect(screen.notice ? `${home}?notice=${screen.notice}` : home);
    }
  };

  /** A form post of a signed-in person: the flow's `act` answers the screen. */
  const action = <T extends z.ZodType>(schema: T, act: (me: AccountVisitor, form: Awaited<ReturnType<typeof submittedForm<T>>>, origin: { ip: string; locale: Context['state']['locale'] }) => Promise<AccountScreen>) =>
    async (ctx: Context) => {
      const me = await current(ctx);
      if (!me) return page(ctx, 'error', { messageKey: 'account.signed_out' }, 401);
      const form = await submittedForm(ctx, deps.csrf, schema);
      render(ctx, me, await act(me, form, { ip: ctx.ip, locale: ctx.state.locale }));
    };

  router.get('/', (ctx) => ctx.redirect(home));

  router.get('/two-factor', async (ctx) => {
    const me = await current(ctx);
    if (me) return render(ctx, me, await deps.page.overview(me));
    // no session: sign in as the account client for the relying party's cooperative and pool
    const state = randomBytes(16).toString('base64url');
    const url = await deps.signIn.authorizationUrl(ctx.query.client_id, state, ctx.state.locale);
    if (!url) return page(ctx, 'error', { messageKey: 'account.signed_out' }, 401);
    ctx.cookies.set(STATE_COOKIE, state, { httpOnly: true, sameSite: 'lax', secure: ctx.secure, maxAge: 3600_000, signed: true, overwrite: true });
    ctx.redirect(url);
  });

  router.get('/callback', async (ctx) => {
    ctx.state.locale = chooseLocale(undefined, ctx.get('accept-language'));
    const expected = ctx.cookies.get(STATE_COOKIE, { signed: true });
    ctx.cookies.set(STATE_COOKIE, null);
    if (!expected || ctx.query.state !== expected || typeof ctx.query.code !== 'string') return page(ctx, 'error', { messageKey: 'account.sign_in_failed' }, 400);
    ctx.status = 303;
    ctx.redirect(home);
  });

  router.post('/two-factor/unlock', action(unlockForm, (me, form, origin) => deps.page.unlock(me, form, origin)));
  router.post('/two-factor/enable', action(emptyForm, (me, form) => deps.page.enable(me, form)));
  router.post('/two-factor/cancel', action(emptyForm, (me, form) => deps.page.cancel(me, form)));
  router.post('/two-factor/confirm', action(codeForm, (me, form, origin) => deps.page.confirm(me, form, origin)));
  router.post('/password', action(passwordForm, (me, form, origin) => deps.page.changePassword(me, form, origin)));
  router.post('/two-factor/disable', action(emptyForm, (me, form) => deps.page.disable(me, form)));
  router.post('/two-factor/disable/confirm', action(emptyForm, (me, form, origin) => deps.page.confirmDisable(me, form, origin)));
  router.post('/passkeys', action(passkeyForm, (me, form, origin) => deps.page.addPasskey(me, form, origin)));
  router.post('/passkeys/:id/remove', (ctx) => action(emptyForm, (me, form) => deps.page.confirmPasskeyRemoval(me, String(ctx.params.id), form))(ctx));
  router.post('/passkeys/:id/remove/confirm', (ctx) => action(emptyForm, (me, form, origin) => deps.page.removePasskey(me, String(ctx.params.id), form, origin))(ctx));
  router.post('/browsers/forget', action(browserForm, (me, form, origin) => deps.page.forgetBrowser(me, form, origin)));
  router.post('/browsers/forget-all', action(emptyForm, (me, form, origin) => deps.page.forgetAllBrowsers(me, form, origin)));

  return router;
}
