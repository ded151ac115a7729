import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { LoginFlow } from '../../flows/login/login-flow.js';
import type { LoginRequest, LoginScreen } from '../../flows/login/login-screen.js';
import type { Interactions } from '../../oidc/interactions.js';
import { requestsTwoFactor } from '../../oidc/provider.js';
import type { LoginProgress } from '../../stores/login-progress.js';
import type { TenantStore } from '../../stores/tenants.js';
import type { BrowserCookie } from '../browser-cookie.js';
import { describeBrowser } from '../browser-description.js';
import type { Csrf } from '../csrf.js';
import { fields, submittedForm } from '../forms.js';
import { interactionLoader, screenRenderer } from '../screens.js';
import type { Views } from '../views.js';

export interface InteractionRouteDeps {
  login: LoginFlow;
  tenants: TenantStore;
  interactions: Interactions;
  views: Views;
  csrf: Csrf;
  browser: BrowserCookie;
}

const loginForm = z.object({ email: fields.email, password: fields.password });
const codeForm = z.object({ code: fields.code });
const recoveryForm = z.object({ recovery_code: fields.recovery_code });
const passkeyForm = z.object({ webauthn_response: fields.webauthn_response });
const emptyForm = z.object({});

/**
 * The screens of an authorization request (docs/rules.md, rules 7 and 8). The login's steps are
 * src/flows/login/login-flow.ts; each handler here reads the request and its form, asks the flow,
 * and renders the screen it answers (or finishes the interaction).
 */
export function interactionRoutes(deps: InteractionRouteDeps): Router {
  const router = new Router({ prefix: '/interaction/:uid' });
  const { login } = deps;
  const page = screenRenderer(deps);
  const load = interactionLoader({ interactions: deps.interactions, tenants: deps.tenants });

  /** The authorization request as the login flow needs it, with this browser's remembrance cookies. */
  const request = async (ctx: Context) => {
    const { interaction, tenant } = await load(ctx);
    const req: LoginRequest = {
      uid: interaction.uid,
      clientId: interaction.clientId,
      tenant,
      pool: interaction.binding.pool!,
      ip: ctx.ip,
      locale: ctx.state.locale,
      twoFactorRequested: requestsTwoFactor(interaction.params.acr_values),
      maxAgeGiven: interaction.params.max_age !== undefined,
      stepUpAccountId: interaction.stepUpOnly ? interaction.accountId : undefined,
      browser: {
        tokenFor: (accountId) => deps.browser.read(ctx, accountId),
        keep: (accountId, token, seconds) => deps.browser.set(ctx, accountId, token, seconds),
        notKept: (error) => ctx.state.log?.warn({ err: { message: error.message } }, 'could not remember the browser; the code will be asked next time'),
        description: describeBrowser(ctx.get('user-agent')),
      },
    };
    return { interaction, req };
  };

  const inProgress = (ctx: Context, ...steps: LoginProgress['step'][]) => login.resume(String(ctx.params.uid), request(ctx).then(({ req }) => req), ...steps);
  const formOf = <T extends z.ZodType>(ctx: Context, schema: T) => () => submittedForm(ctx, deps.csrf, schema);

  /** The screen the flow answered; `loginHint` prefills the password form. */
  const render = async (ctx: Context, req: LoginRequest, screen: LoginScreen, loginHint?: string) => {
    const common = { uid: req.uid, tenantName: req.tenant.name };
    const abort = `/interaction/${req.uid}/abort`;
    switch (screen.show) {
      case 'login':
        return page(ctx, 'login', { ...common, email: screen.email ?? loginHint, error: screen.error }, screen.status);
      case 'challenge':
      case 'recovery':
        return page(ctx, screen.show, { ...common, error: screen.error, attemptsLeft: screen.attemptsLeft }, screen.status);
      case 'passkey':
        return page(ctx, 'passkey-login', { ...common, error: screen.error, attemptsLeft: screen.attemptsLeft, options: screen.options, hasTotp: screen.hasTotp }, screen.status);
      case 'enroll':
        return page(ctx, 'enroll', { ...common, error: screen.error, ...screen.enrollment, skippable: screen.skippable, action: `/interaction/${req.uid}/enroll` }, screen.status);
      case 'recovery-code':
        return page(ctx, 'recovery-code', { ...common, recoveryCode: screen.recoveryCode, action: `/interaction/${req.uid}/continue` });
      case 'continue':
        return page(ctx, 'continue', { ...common, error: screen.error });
      case 'ended':
        return page(ctx, 'error', { ...common, error: screen.error, messageKey: 'challenge.too_many', abort }, 403);
      case 'locked':
        return page(ctx, 'error', { tenantName: req.tenant.name, messageKey: 'challenge.locked', minutes: screen.minutes, abort }, 429);
      case 'next':
        ctx.redirect(`/interaction/${req.uid}`);
        ctx.status = 303;
        return;
      case 'finished':
        return deps.interactions.finishLogin(ctx, screen.login);
    }
  };

  router.get('/', async (ctx) => {
    const { interaction, req } = await request(ctx);
    if (interaction.prompt === 'consent') return deps.interactions.approveConsent(ctx);
    await render(ctx, req, await login.show(req), interaction.params.login_hint);
  });

  router.post('/login', async (ctx) => {
    const { interaction, req } = await request(ctx);
    const screen = await login.signIn(req, async () => {
      const form = await submittedForm(ctx, deps.csrf, loginForm);
      const typed = form.raw.email;
      return form.ok ? form : { ...form, email: typeof typed === 'string' && typed.length <= 320 ? typed : undefined };
    });
    await render(ctx, req, screen, interaction.params.login_hint);
  });

  router.post('/code', async (ctx) => {
    const at = await inProgress(ctx, 'challenge', 'ended');
    await render(ctx, at.req, await login.code(at, formOf(ctx, codeForm)));
  });

  router.get('/code', async (ctx) => {
    const at = await inProgress(ctx, 'challenge', 'ended');
    await render(ctx, at.req, await login.codeForm(at));
  });

  router.post('/passkey', async (ctx) => {
    const at = await inProgress(ctx, 'challenge', 'ended');
    await render(ctx, at.req, await login.passkey(at, formOf(ctx, passkeyForm)));
  });

  router.get('/recovery', async (ctx) => {
    const at = await inProgress(ctx, 'challenge', 'ended');
    await render(ctx, at.req, await login.recoveryForm(at));
  });

  router.post('/recovery', async (ctx) => {
    const at = await inProgress(ctx, 'challenge', 'ended');
    await render(ctx, at.req, await login.recovery(at, formOf(ctx, recoveryForm)));
  });

  router.post('/enroll', async (ctx) => {
    const at = await inProgress(ctx, 'enroll');
    await render(ctx, at.req, await login.confirmEnrollment(at, formOf(ctx, codeForm)));
  });

  router.post('/enroll/skip', async (ctx) => {
    const at = await inProgress(ctx, 'enroll');
    await render(ctx, at.req, await login.skipEnrollment(at, formOf(ctx, emptyForm)));
  });

  router.post('/continue', async (ctx) => {
    const at = await inProgress(ctx, 'recovery_code_shown');
    await render(ctx, at.req, await login.continue(at, formOf(ctx, emptyForm)));
  });

  router.get('/abort', async (ctx) => {
    const { interaction } = await load(ctx);
    await login.abandon(interaction.uid);
    await deps.interactions.abort(ctx);
  });

  return router;
}
