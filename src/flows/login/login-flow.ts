import { InteractionExpired } from '../../errors.js';
import type { Amr } from '../../policy/authentication-level.js';
import { MAX_CODE_ATTEMPTS_PER_CHALLENGE } from '../../policy/lockout.js';
import type { Account } from '../../stores/accounts.js';
import type { AuditEvent } from '../../stores/audit-events.js';
import type { LoginProgress } from '../../stores/login-progress.js';
import type { Tenant } from '../../stores/tenants.js';
import type { FlowDependencies } from '../dependencies.js';
import { beginEnrollment, enrollmentScreen } from '../enrollment/begin-enrollment.js';
import { confirmEnrollment } from '../enrollment/confirm-enrollment.js';
import { chooseSecondStep } from './choose-second-step.js';
import { completeLogin } from './complete-login.js';
import type { FormInput, LoginRequest, LoginScreen } from './login-screen.js';
import { renewRemembrance } from './renew-remembrance.js';
import { signInWithPassword } from './sign-in-with-password.js';
import { useRecoveryCode } from './use-recovery-code.js';
import { verifyLoginCode, type CodeOutcome } from './verify-code.js';
import { verifyPasskey } from './verify-passkey.js';

/** A login between its screens: the request, where it stands, and its account (read afresh). */
export interface LoginInProgress {
  req: LoginRequest;
  progress: LoginProgress;
  account: Account;
}

type Step = LoginProgress['step'];
type Read<T> = () => Promise<FormInput<T>>;

/**
 * The login of an authorization request (docs/rules.md, rules 7, 8 and 11): the password, then —
 * unless this browser is remembered — a passkey (offered first to an account that has one), the
 * code, the recovery code, or enrollment. This module owns
 * the login's progress (`login:{uid}`): it reads it, moves it from step to step, adds the `amr`
 * each step earns, and at the end records the login and renews the browser's remembrance. Each
 * method answers the next screen; the route reads the forms (passed as `read`, so that a form is
 * read only where it was read before: after the progress was found) and renders.
 */
export class LoginFlow {
  constructor(private readonly deps: FlowDependencies) {}

  /**
   * The login in progress at one of `steps`; a missing one, or one at another step, has expired.
   * The progress is read with the request, by the uid in the path; only the interaction's own uid
   * counts, so another uid is read again.
   */
  async resume(pathUid: string, request: Promise<LoginRequest>, ...steps: Step[]): Promise<LoginInProgress> {
    const [req, prefetched] = await Promise.all([request, this.deps.progress.get(pathUid)]);
    const progress = req.uid === pathUid ? prefetched : await this.deps.progress.get(req.uid);
    const account = progress && (await this.deps.accounts.findById(progress.accountId));
    if (!progress || !account || !steps.includes(progress.step)) throw new InteractionExpired();
    return { req, progress, account };
  }

  /** The screen of a login's address: the step it is at, a step-up's second factor, or the password form. */
  async show(req: LoginRequest): Promise<LoginScreen> {
    const progress = await this.deps.progress.get(req.uid);
    // only shown here (the forms posted from this screen read the account afresh)
    const account = progress && (await this.deps.accounts.findCachedWithTenantSlug(progress.accountId))?.account;
    if (progress && account) return this.screenOf({ req, progress, account });
    if (req.stepUpAccountId) {
      const sessionAccount = await this.deps.accounts.findById(req.stepUpAccountId);
      if (sessionAccount && !sessionAccount.disabled) return this.afterPassword(req, sessionAccount, ['pwd']);
    }
    return { show: 'login' };
  }

  /** E-mail and password; a challenge that ended stays ended. `email` of a refused form: what was typed, to show again. */
  async signIn(req: LoginRequest, read: () => Promise<FormInput<{ email: string; password: string }> & { email?: string }>): Promise<LoginScreen> {
    const previous = await this.deps.progress.get(req.uid);
    const previousAccount = previous?.step === 'ended' ? await this.deps.accounts.findById(previous.accountId) : undefined;
    if (previous && previousAccount) return this.screenOf({ req, progress: previous, account: previousAccount });
    const form = await read();
    if (!form.ok) return { show: 'login', email: form.email, error: form.messageKey, status: form.status };
    const { tenant, pool, ip, clientId } = req;
    const outcome = await signInWithPassword(this.deps, { tenantId: tenant.id, pool, email: form.data.email, password: form.data.password, ip, clientId });
    if (!outcome.ok) return { show: 'login', email: form.data.email, error: 'login.failed', status: 401 };
    return this.afterPassword(req, outcome.account, ['pwd']);
  }

  /** The code of the challenge. */
  async code(at: LoginInProgress, read: Read<{ code: string }>): Promise<LoginScreen> {
    const { req, progress, account } = at;
    const form = await read();
    if (progress.step === 'ended') return this.screenOf(at);
    if (!form.ok) return this.screenOf(at, { error: form.messageKey, status: form.status });
    const outcome = await verifyLoginCode(this.deps, { account, uid: req.uid, code: form.data.code, ip: req.ip, locale: req.locale });
    if (outcome.result !== 'accepted') return this.refused(at, outcome, 'challenge');
    return this.finish(req, req.tenant, account, [...progress.amr, 'otp'], false, [outcome.audit]);
  }

  /** "Gebruik code uit de app": the code form, also where a passkey is offered first. */
  async codeForm(at: LoginInProgress): Promise<LoginScreen> {
    if (at.progress.step === 'ended') return this.screenOf(at);
    return { show: 'challenge', attemptsLeft: await this.attemptsLeft(at.req.uid) };
  }

  /** A passkey's answer in the challenge: counted like a code; passed, the login ends with amr hwk or swk. */
  async passkey(at: LoginInProgress, read: Read<{ webauthn_response: string }>): Promise<LoginScreen> {
    const { req, progress, account } = at;
    const form = await read();
    if (progress.step === 'ended') return this.screenOf(at);
    if (!form.ok) return this.screenOf(at, { error: form.messageKey, status: form.status });
    const outcome = await verifyPasskey(this.deps, { account, uid: req.uid, response: form.data.webauthn_response, ip: req.ip, locale: req.locale });
    if (outcome.result !== 'accepted') return this.refused(at, outcome, 'passkey');
    return this.finish(req, req.tenant, account, [...progress.amr, outcome.amr], false, outcome.audit);
  }

  async recoveryForm(at: LoginInProgress): Promise<LoginScreen> {
    if (at.progress.step === 'ended') return this.screenOf(at);
    return { show: 'recovery', attemptsLeft: await this.attemptsLeft(at.req.uid) };
  }

  /** The recovery code instead of a code (rule 8): accepted, 2FA is reset and the login goes into enrollment. */
  async recovery(at: LoginInProgress, read: Read<{ recovery_code: string }>): Promise<LoginScreen> {
    const { req, progress, account } = at;
    const form = await read();
    if (progress.step === 'ended') return this.screenOf(at);
    if (!form.ok) return { show: 'recovery', error: form.messageKey, status: form.status, attemptsLeft: await this.attemptsLeft(req.uid) };
    const outcome = await useRecoveryCode(this.deps, { account, uid: req.uid, recoveryCode: form.data.recovery_code, ip: req.ip, locale: req.locale });
    if (outcome.result !== 'accepted') return this.refused(at, outcome, 'recovery');
    const { required } = await chooseSecondStep(this.deps, { account, tenant: await this.currentPolicy(req.tenant), twoFactorRequested: false, maxAgeGiven: false });
    await this.deps.progress.save(req.uid, {
      accountId: account.id,
      step: 'enroll',
      amr: [...progress.amr, 'rec'],
      skippable: !required,
      pendingEnrollment: beginEnrollment(this.deps, account),
    });
    return { show: 'next' };
  }

  /** A code confirms the enrollment; the recovery code is shown once. */
  async confirmEnrollment(at: LoginInProgress, read: Read<{ code: string }>): Promise<LoginScreen> {
    const { req, progress, account } = at;
    const form = await read();
    if (!form.ok) return this.screenOf(at, { error: form.messageKey, status: form.status });
    const outcome = await confirmEnrollment(this.deps, { account, sealedSecret: progress.pendingEnrollment!, code: form.data.code, ip: req.ip, locale: req.locale });
    if (!outcome.ok) {
      if (outcome.reason === 'already_enabled') throw new InteractionExpired();
      return this.screenOf(at, { error: 'enroll.wrong_code', status: 400 });
    }
    await this.deps.progress.save(req.uid, { ...progress, step: 'recovery_code_shown', amr: [...progress.amr, 'otp'], pendingEnrollment: undefined });
    return { show: 'recovery-code', recoveryCode: outcome.recoveryCode };
  }

  /** Enrollment skipped, where 2FA is not required. */
  async skipEnrollment(at: LoginInProgress, read: Read<object>): Promise<LoginScreen> {
    const form = await read();
    if (!form.ok || !at.progress.skippable) return this.screenOf(at, { error: form.ok ? 'enroll.required' : form.messageKey, status: 403 });
    return this.finish(at.req, at.req.tenant, at.account, at.progress.amr);
  }

  /** After the recovery code was shown. */
  async continue(at: LoginInProgress, read: Read<object>): Promise<LoginScreen> {
    const form = await read();
    if (!form.ok) return this.screenOf(at, { error: form.messageKey, status: form.status });
    return this.finish(at.req, at.req.tenant, at.account, at.progress.amr);
  }

  /** The person gave up (the interaction is aborted by the caller). */
  async abandon(uid: string): Promise<void> {
    await this.deps.progress.clear(uid);
  }

  /** The screen of the step the login is at. */
  private async screenOf({ req, progress, account }: LoginInProgress, extra: { error?: string; status?: number } = {}): Promise<LoginScreen> {
    switch (progress.step) {
      case 'challenge':
        return (await this.passkeyScreen({ req, progress, account }, extra)) ?? { show: 'challenge', ...extra, attemptsLeft: await this.attemptsLeft(req.uid) };
      case 'enroll':
        return { show: 'enroll', ...extra, enrollment: await enrollmentScreen(this.deps, account, req.tenant, progress.pendingEnrollment!), skippable: progress.skippable };
      case 'recovery_code_shown':
        return { show: 'continue', error: extra.error };
      case 'ended':
        return { show: 'ended', error: extra.error };
    }
  }

  /**
   * The challenge with the passkey offered first, for an account that has one (fresh options, whose
   * challenge replaces this login's earlier one); undefined for the code form. Where browsers
   * cannot run WebAuthn for our ISSUER, an account that also has TOTP gets the code form.
   */
  private async passkeyScreen({ req, account }: LoginInProgress, extra: { error?: string; status?: number }): Promise<LoginScreen | undefined> {
    const [options, totp] = await Promise.all([
      this.deps.passkey.challenge({ accountId: account.id, flowId: req.uid }),
      this.deps.secondFactors.findTotp(account.id),
    ]);
    if (!options || (!this.deps.passkey.available && totp)) return undefined;
    return { show: 'passkey', ...extra, options: JSON.stringify(options), hasTotp: Boolean(totp), attemptsLeft: await this.attemptsLeft(req.uid) };
  }

  /** Checks left in this login's challenge, for the screen (shown once one was used). */
  private async attemptsLeft(uid: string): Promise<number | undefined> {
    const used = await this.deps.progress.attempts(uid);
    return used > 0 ? Math.max(0, MAX_CODE_ATTEMPTS_PER_CHALLENGE - used) : undefined;
  }

  /** The tenant as stored now: whether a code is asked is decided by its current policy. */
  private async currentPolicy(shown: Tenant): Promise<Tenant> {
    const tenant = await this.deps.tenants.findById(shown.id);
    if (!tenant) throw new InteractionExpired();
    return tenant;
  }

  /** After the password (or, for a step-up, the session): finish, or go on to the code or enrollment. */
  private async afterPassword(req: LoginRequest, account: Account, amr: Amr[]): Promise<LoginScreen> {
    const tenant = await this.currentPolicy(req.tenant);
    const decision = await chooseSecondStep(this.deps, {
      account,
      tenant,
      browserToken: req.browser.tokenFor(account.id),
      twoFactorRequested: req.twoFactorRequested,
      maxAgeGiven: req.maxAgeGiven,
    });
    if (decision.next === 'done') return this.finish(req, tenant, account, amr, decision.reason === 'browser_remembered');
    const progress: LoginProgress = { accountId: account.id, step: decision.next, amr, skippable: !decision.required };
    if (decision.next === 'enroll') progress.pendingEnrollment = beginEnrollment(this.deps, account);
    // a new challenge starts with no attempts used (an earlier one in this interaction, of another
    // account perhaps, is dropped); a finished login clears the progress in finish() instead
    await this.deps.progress.clear(req.uid);
    await this.deps.progress.save(req.uid, progress);
    return { show: 'next' };
  }

  /** A code or recovery code that was not accepted. */
  private async refused(at: LoginInProgress, outcome: Exclude<CodeOutcome, { result: 'accepted' }>, screen: 'challenge' | 'recovery' | 'passkey'): Promise<LoginScreen> {
    const progress: LoginProgress = outcome.result === 'challenge_ended' ? { ...at.progress, step: 'ended' } : at.progress;
    await this.deps.progress.save(at.req.uid, progress);
    if (outcome.result === 'locked') return { show: 'locked', minutes: Math.ceil(outcome.seconds / 60) };
    if (outcome.result === 'challenge_ended') return this.screenOf({ ...at, progress });
    if (screen === 'passkey') return this.screenOf(at, { error: 'passkey.login_failed', status: 401 });
    const error = screen === 'challenge' ? 'challenge.wrong_code' : 'recovery.wrong_code';
    return { show: screen, error, status: 401, attemptsLeft: outcome.attemptsLeft };
  }

  /** The end of a login: acr/amr and its audit events, the progress gone, the browser's remembrance renewed. */
  private async finish(req: LoginRequest, tenant: Tenant, account: Account, amr: Amr[], remembered = false, alsoRecord?: AuditEvent[]): Promise<LoginScreen> {
    const [done] = await Promise.all([
      completeLogin(this.deps, { account, amr, remembered, clientId: req.clientId, ip: req.ip, locale: req.locale, alsoRecord }),
      this.deps.progress.clear(req.uid),
      renewRemembrance(this.deps, req.browser, { tenant, account, amr, remembered }).catch((error: Error) => req.browser.notKept(error)),
    ]);
    return { show: 'finished', login: { accountId: account.id, acr: done.acr, amr: done.amr } };
  }
}
