import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { FlowDependencies } from '../../flows/dependencies.js';
import { beginEnrollment, enrollmentScreen } from '../../flows/enrollment/begin-enrollment.js';
import { confirmEnrollment } from '../../flows/enrollment/confirm-enrollment.js';
import { chooseSecondStep } from '../../flows/login/choose-second-step.js';
import { completeLogin, rememberHours } from '../../flows/login/complete-login.js';
import { signInWithPassword } from '../../flows/login/sign-in-with-password.js';
import { useRecoveryCode } from '../../flows/login/use-recovery-code.js';
import { verifyLoginCode, type CodeOutcome } from '../../flows/login/verify-code.js';
import { InteractionExpired, type Interactions, type PendingInteraction } from '../../oidc/interactions.js';
import { requestsTwoFactor } from '../../oidc/provider.js';
import type { Amr } from '../../policy/authentication-level.js';
import { MAX_CODE_ATTEMPTS_PER_CHALLENGE } from '../../policy/lockout.js';
import type { Account } from '../../stores/accounts.js';
import type { AuditEvent } from '../../stores/audit-events.js';
import type { LoginProgress } from '../../stores/login-progress.js';
import { RemembranceStore } from '../../stores/remembrances.js';
import type { Tenant } from '../../stores/tenants.js';
import type { BrowserCookie } from '../browser-cookie.js';
import type { Csrf } from '../csrf.js';
import { fields, submittedForm } from '../forms.js';
import { interactionLoader, screenRenderer } from '../screens.js';
import type { Views } from '../views.js';

export interface InteractionRouteDeps {
  flows: FlowDependencies;
  interactions: Interactions;
  views: Views;
  csrf: Csrf;
  browser: BrowserCookie;
}

const loginForm = z.object({ email: fields.email, password: fields.password });
const codeForm = z.object({ code: fields.code });
const recoveryForm = z.object({ recovery_code: fields.recovery_code });
const emptyForm = z.object({});

/**
 * The screens of an authorization request (docs/rules.md, rules 7 and 8): the password, then —
 * unless this browser is remembered — the code, the recovery code, or enrollment; all inside one
 * interaction. Each handler reads its form, calls a flow, and renders the next screen or finishes.
 */
export function interactionRoutes(deps: InteractionRouteDeps): Router {
  const router = new Router({ prefix: '/interaction/:uid' });
  const { flows } = deps;

  const page = screenRenderer(deps);
  const load = interactionLoader({ interactions: deps.interactions, tenants: flows.tenants });

  /**
   * The interaction and the login in progress, with its account; a missing or unexpected one is an
   * expired interaction. The progress is read with the interaction, by the uid in the path; only
   * the interaction's own uid (from its cookie) counts, so another uid is read again.
   */
  const loadInProgress = async (ctx: Context, ...steps: LoginProgress['step'][]) => {
    const [{ interaction, tenant }, prefetched] = await Promise.all([load(ctx), flows.progress.get(String(ctx.params.uid))]);
    const progress = interaction.uid === ctx.params.uid ? prefetched : await flows.progress.get(interaction.uid);
    const account = progress && (await flows.accounts.findById(progress.accountId));
    if (!progress || !account || !steps.includes(progress.step)) throw new InteractionExpired();
    return { interaction, tenant, progress, account };
  };

  const showLogin = (ctx: Context, interaction: PendingInteraction, tenant: Tenant, extra: { email?: string; error?: string; status?: number } = {}) =>
    page(ctx, 'login', { uid: interaction.uid, tenantName: tenant.name, email: extra.email ?? interaction.params.login_hint, error: extra.error }, extra.status);

  /** Checks left in this login's challenge, for the screen (shown once one was used). */
  const attemptsLeft = async (uid: string) => {
    const used = await flows.progress.attempts(uid);
    return used > 0 ? Math.max(0, MAX_CODE_ATTEMPTS_PER_CHALLENGE - used) : undefined;
  };

  const showStep = async (ctx: Context, interaction: PendingInteraction, tenant: Tenant, progress: LoginProgress, account: Account, extra: { error?: string; status?: number } = {}) => {
    const common = { uid: interaction.uid, tenantName: tenant.name, error: extra.error };
    switch (progress.step) {
      case 'challenge':
        return page(ctx, 'challenge', { ...common, attemptsLeft: await attemptsLeft(interaction.uid) }, extra.status);
      case 'enroll': {
        const screen = await enrollmentScreen(flows, account, tenant, progress.pendingSecret!);
        return page(ctx, 'enroll', { ...common, ...screen, skippable: progress.skippable, action: `/interaction/${interaction.uid}/enroll` }, extra.status);
      }
      case 'recovery_code_shown':
        return page(ctx, 'continue', common);
      case 'ended':
        return page(ctx, 'error', { ...common, messageKey: 'challenge.too_many', abort: `/interaction/${interaction.uid}/abort` }, 403);
    }
  };

  /**
   * This browser's remembrance after the login, always under a fresh token: written after a code,
   * moved when the remembrance let the login skip the code (so a planted or leaked token is never
   * the one that counts afterwards).
   */
  const renewRemembrance = async (ctx: Context, tenant: Tenant, account: Account, amr: Amr[], remembered: boolean) => {
    const hours = rememberHours(tenant, account, amr);
    const previous = deps.browser.read(ctx, account.id);
    const fresh = RemembranceStore.newBrowserToken();
    if (hours > 0) {
      await flows.remembrances.remember(account.id, fresh, hours);
      deps.browser.set(ctx, account.id, fresh, hours * 3600);
      if (previous) await flows.remembrances.forget(account.id, previous);
    } else if (remembered && previous) {
      const left = await flows.remembrances.renew(account.id, previous, fresh);
      if (left > 0) deps.browser.set(ctx, account.id, fresh, left);
    }
  };

  /** The end of a login: acr/amr, the browser remembered after a code, the interaction finished. */
  const finish = async (ctx: Context, interaction: PendingInteraction, tenant: Tenant, account: Account, amr: Amr[], remembered = false, alsoRecord?: AuditEvent[]) => {
    const [done] = await Promise.all([
      completeLogin(flows, { account, amr, remembered, clientId: interaction.clientId, ip: ctx.ip, locale: ctx.state.locale, alsoRecord }),
      flows.progress.clear(interaction.uid),
      renewRemembrance(ctx, tenant, account, amr, remembered).catch((error: Error) => {
        ctx.state.log?.warn({ err: { message: error.message } }, 'could not remember the browser; the code will be asked next time');
      }),
    ]);
    await deps.interactions.finishLogin(ctx, { accountId: account.id, acr: done.acr, amr: done.amr });
  };

  /** The tenant as stored now: whether a code is asked is decided by its current policy. */
  const currentPolicy = async (shown: Tenant) => {
    const tenant = await flows.tenants.findById(shown.id);
    if (!tenant) throw new InteractionExpired();
    return tenant;
  };

  /** After the password (or, for a step-up, the session): finish, or go on to the code or enrollment. */
  const secondStep = async (ctx: Context, interaction: PendingInteraction, shown: Tenant, account: Account, amr: Amr[]) => {
    const tenant = await currentPolicy(shown);
    const decision = await chooseSecondStep(flows, {
      account,
      tenant,
      browserToken: deps.browser.read(ctx, account.id),
      twoFactorRequested: requestsTwoFactor(interaction.params.acr_values),
      maxAgeGiven: interaction.params.max_age !== undefined,
    });
    if (decision.next === 'done') return finish(ctx, interaction, tenant, account, amr, decision.reason === 'browser_remembered');
    const progress: LoginProgress = { accountId: account.id, step: decision.next, amr, skippable: !decision.required };
    if (decision.next === 'enroll') progress.pendingSecret = beginEnrollment(flows, account);
    await flows.progress.save(interaction.uid, progress);
    ctx.redirect(`/interaction/${interaction.uid}`);
    ctx.status = 303;
  };

  /** The shared answer to a code or recovery code that was not accepted. */
  const refused = async (ctx: Context, interaction: PendingInteraction, tenant: Tenant, progress: LoginProgress, account: Account, outcome: Exclude<CodeOutcome, { result: 'accepted' }>, template: 'challenge' | 'recovery') => {
    if (outcome.result === 'challenge_ended') progress.step = 'ended';
    await flows.progress.save(interaction.uid, progress);
    if (outcome.result === 'locked') {
      return page(ctx, 'error', { tenantName: tenant.name, messageKey: 'challenge.locked', minutes: Math.ceil(outcome.seconds / 60), abort: `/interaction/${interaction.uid}/abort` }, 429);
    }
    if (outcome.result === 'challenge_ended') return showStep(ctx, interaction, tenant, progress, account);
    const error = template === 'challenge' ? 'challenge.wrong_code' : 'recovery.wrong_code';
    return page(ctx, template, { uid: interaction.uid, tenantName: tenant.name, error, attemptsLeft: outcome.attemptsLeft }, 401);
  };

  router.get('/', async (ctx) => {
    const { interaction, tenant } = await load(ctx);
    if (interaction.prompt === 'consent') return deps.interactions.approveConsent(ctx);
    const progress = await flows.progress.get(interaction.uid);
    // only shown here (the forms posted from this screen read the account afresh)
    const account = progress && (await flows.accounts.findCachedWithTenantSlug(progress.accountId))?.account;
    if (progress && account) return showStep(ctx, interaction, tenant, progress, account);
    if (interaction.stepUpOnly) {
      const sessionAccount = await flows.accounts.findById(interaction.accountId!);
      if (sessionAccount && !sessionAccount.disabled) return secondStep(ctx, interaction, tenant, sessionAccount, ['pwd']);
    }
    return showLogin(ctx, interaction, tenant);
  });

  router.post('/login', async (ctx) => {
    const { interaction, tenant } = await load(ctx);
    const previous = await flows.progress.get(interaction.uid);
    const previousAccount = previous?.step === 'ended' ? await flows.accounts.findById(previous.accountId) : undefined;
    if (previous && previousAccount) return showStep(ctx, interaction, tenant, previous, previousAccount);
    const form = await submittedForm(ctx, deps.csrf, loginForm);
    const typedEmail = typeof form.raw.email === 'string' && form.raw.email.length <= 320 ? form.raw.email : undefined;
    if (!form.ok) return showLogin(ctx, interaction, tenant, { email: typedEmail, error: form.messageKey, status: form.status });
    const outcome = await signInWithPassword(flows, {
      tenantId: tenant.id,
      pool: interaction.binding.pool!,
      email: form.data.email,
      password: form.data.password,
      ip: ctx.ip,
      clientId: interaction.clientId,
    });
    if (!outcome.ok) return showLogin(ctx, interaction, tenant, { email: form.data.email, error: 'login.failed', status: 401 });
    await flows.progress.clear(interaction.uid);
    return secondStep(ctx, interaction, tenant, outcome.account, ['pwd']);
  });

  router.post('/code', async (ctx) => {
    const { interaction, tenant, progress, account } = await loadInProgress(ctx, 'challenge', 'ended');
    const form = await submittedForm(ctx, deps.csrf, codeForm);
    if (progress.step === 'ended') return showStep(ctx, interaction, tenant, progress, account);
    if (!form.ok) return showStep(ctx, interaction, tenant, progress, account, { error: form.messageKey, status: form.status });
    const outcome = await verifyLoginCode(flows, { account, uid: interaction.uid, code: form.data.code, ip: ctx.ip, locale: ctx.state.locale });
    if (outcome.result !== 'accepted') return refused(ctx, interaction, tenant, progress, account, outcome, 'challenge');
    return finish(ctx, interaction, tenant, account, [...progress.amr, 'otp'], false, [outcome.audit]);
  });

  router.get('/recovery', async (ctx) => {
    const { interaction, tenant, progress, account } = await loadInProgress(ctx, 'challenge', 'ended');
    if (progress.step === 'ended') return showStep(ctx, interaction, tenant, progress, account);
    page(ctx, 'recovery', { uid: interaction.uid, tenantName: tenant.name, attemptsLeft: await attemptsLeft(interaction.uid) });
  });

  router.post('/recovery', async (ctx) => {
    const { interaction, tenant, progress, account } = await loadInProgress(ctx, 'challenge', 'ended');
    const form = await submittedForm(ctx, deps.csrf, recoveryForm);
    if (progress.step === 'ended') return showStep(ctx, interaction, tenant, progress, account);
    if (!form.ok) return page(ctx, 'recovery', { uid: interaction.uid, tenantName: tenant.name, error: form.messageKey, attemptsLeft: await attemptsLeft(interaction.uid) }, form.status);
    const outcome = await useRecoveryCode(flows, { account, uid: interaction.uid, recoveryCode: form.data.recovery_code, ip: ctx.ip, locale: ctx.state.locale });
    if (outcome.result !== 'accepted') return refused(ctx, interaction, tenant, progress, account, outcome, 'recovery');
    const { required } = await chooseSecondStep(flows, { account, tenant: await currentPolicy(tenant), twoFactorRequested: false, maxAgeGiven: false });
    await flows.progress.save(interaction.uid, {
      accountId: account.id,
      step: 'enroll',
      amr: [...progress.amr, 'rec'],
      skippable: !required,
      pendingSecret: beginEnrollment(flows, account),
    });
    ctx.redirect(`/interaction/${interaction.uid}`);
    ctx.status = 303;
  });

  router.post('/enroll', async (ctx) => {
    const { interaction, tenant, progress, account } = await loadInProgress(ctx, 'enroll');
    const form = await submittedForm(ctx, deps.csrf, codeForm);
    if (!form.ok) return showStep(ctx, interaction, tenant, progress, account, { error: form.messageKey, status: form.status });
    const outcome = await confirmEnrollment(flows, { account, sealedSecret: progress.pendingSecret!, code: form.data.code, ip: ctx.ip, locale: ctx.state.locale });
    if (!outcome.ok) {
      if (outcome.reason === 'already_enabled') throw new InteractionExpired();
      return showStep(ctx, interaction, tenant, progress, account, { error: 'enroll.wrong_code', status: 400 });
    }
    await flows.progress.save(interaction.uid, { ...progress, step: 'recovery_code_shown', amr: [...progress.amr, 'otp'], pendingSecret: undefined });
    page(ctx, 'recovery-code', { uid: interaction.uid, tenantName: tenant.name, recoveryCode: outcome.recoveryCode, action: `/interaction/${interaction.uid}/continue` });
  });

  router.post('/enroll/skip', async (ctx) => {
    const { interaction, tenant, progress, account } = await loadInProgress(ctx, 'enroll');
    const form = await submittedForm(ctx, deps.csrf, emptyForm);
    if (!form.ok || !progress.skippable) return showStep(ctx, interaction, tenant, progress, account, { error: form.ok ? 'enroll.required' : form.messageKey, status: 403 });
    return finish(ctx, interaction, tenant, account, progress.amr);
  });

  router.post('/continue', async (ctx) => {
    const { interaction, tenant, progress, account } = await loadInProgress(ctx, 'recovery_code_shown');
    const form = await submittedForm(ctx, deps.csrf, emptyForm);
    if (!form.ok) return showStep(ctx, interaction, tenant, progress, account, { error: form.messageKey, status: form.status });
    return finish(ctx, interaction, tenant, account, progress.amr);
  });

  router.get('/abort', async (ctx) => {
    const { interaction } = await load(ctx);
    await flows.progress.clear(interaction.uid);
    await deps.interactions.abort(ctx);
  });

  return router;
}
