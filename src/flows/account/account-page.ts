import type { Provisioning } from '../../factors/totp.js';
import type { Locale } from '../../locale.js';
import { twoFactorRequirement, type RequiredBy } from '../../policy/second-factor.js';
import type { AccountPageState } from '../../stores/account-page-state.js';
import type { Account } from '../../stores/accounts.js';
import type { Tenant } from '../../stores/tenants.js';
import type { FlowDependencies } from '../dependencies.js';
import { beginEnrollment, enrollmentScreen } from '../enrollment/begin-enrollment.js';
import { confirmEnrollment } from '../enrollment/confirm-enrollment.js';
import type { FormInput } from '../login/login-screen.js';
import type { BrowserPort } from '../login/renew-remembrance.js';
import { changePassword } from './change-password.js';
import { disableTwoFactor } from './disable-two-factor.js';
import { forgetAllRememberedBrowsers, forgetRememberedBrowser, rememberedBrowsers, type RememberedBrowserView } from './remembered-browsers.js';
import { unlockAccountPage } from './unlock-account-page.js';
import { addPasskey } from './add-passkey.js';
import { passkeySection, type PasskeySection } from './passkey-section.js';
import { removePasskey } from './remove-passkey.js';

/** The signed-in person on the account page. */
export interface AccountVisitor {
  account: Account;
  tenant: Tenant;
  sessionUid: string;
  /** "Ontgrendel" was passed in this session within the last 10 minutes */
  unlocked: boolean;
  /** this browser's remembrance token for the account, to mark it in the list */
  browserToken?: string;
}

/** Where the request came from, for audit events and mails. */
export interface Origin {
  ip: string;
  locale: Locale;
}

type Problem = { error?: string; status?: number };

/** What an action of the account page answers. */
export type AccountScreen =
  /** `hasTotp`: an authenticator app is set up (an account with only passkeys may add one) */
  | ({ show: 'overview'; email: string; enabled: boolean; hasTotp: boolean; unlocked: boolean; required: boolean; requiredBy: RequiredBy; minimum: number; browsers: RememberedBrowserView[]; passkeys: PasskeySection } & Problem)
  | ({ show: 'enroll'; enrollment: Provisioning } & Problem)
  | { show: 'recovery-code'; recoveryCode: string }
  | { show: 'disable-confirm' }
  | { show: 'passkey-remove-confirm'; passkey: { id: string; name: string } }
  | { show: 'locked'; minutes: number }
  /** back to the page (a redirect), with a notice to show there */
  | { show: 'back'; notice?: 'enabled' | 'disabled' | 'unlocked' | 'password_changed' | 'browser_forgotten' | 'browsers_forgotten' | 'passkey_added' | 'passkey_removed' };

type Empty = FormInput<object>;

/**
 * The account page (docs/rules.md, rules 6 and 9): the 2FA status; "Ontgrendel" with the password;
 * enable (QR code, key, a code to confirm, the recovery code once); disable after a confirmation;
 * a new password. It owns the page's short-lived state (the unlock, a pending enrollment); each
 * method answers the screen to show. The changes to 2FA need a fresh unlock.
 */
export class AccountPage {
  constructor(private readonly deps: FlowDependencies & { pageState: AccountPageState }) {}

  /** The person of a Sleutel session; undefined without one, or for a disabled account. */
  async visitor(session: { accountId: string; sessionUid: string } | undefined, browser?: Pick<BrowserPort, 'tokenFor'>): Promise<AccountVisitor | undefined> {
    const account = session && (await this.deps.accounts.findById(session.accountId));
    const tenant = account && (await this.deps.tenants.findById(account.tenantId));
    if (!session || !account || !tenant || account.disabled) return undefined;
    const unlocked = await this.deps.pageState.isUnlocked(session.sessionUid, account.id);
    return { account, tenant, sessionUid: session.sessionUid, unlocked, browserToken: browser?.tokenFor(account.id) };
  }

  /** The page: status and what the person may do now, or the enrollment they began. */
  async overview(me: AccountVisitor, problem: Problem = {}): Promise<AccountScreen> {
    const [enabled, totp] = await Promise.all([this.deps.secondFactors.isEnabled(me.account.id), this.deps.secondFactors.findTotp(me.account.id)]);
    const requirement = twoFactorRequirement(me.account.pool, me.tenant.policy, me.account.twoFactorRequired);
    const pending = me.unlocked && !totp ? await this.deps.pageState.pendingEnrollment(me.sessionUid) : undefined;
    if (pending) return { show: 'enroll', ...problem, enrollment: await enrollmentScreen(this.deps, me.account, me.tenant, pending) };
    return {
      show: 'overview',
      ...problem,
      email: me.account.email,
      enabled,
      hasTotp: Boolean(totp),
      unlocked: me.unlocked,
      required: requirement.required,
      requiredBy: requirement.requiredBy,
      minimum: me.tenant.policy.min_password_length[me.account.pool],
      browsers: await rememberedBrowsers(this.deps, me),
      passkeys: await passkeySection(this.deps, me),
    };
  }

  /** "Passkey toevoegen": the browser's answer stored under the name given; a first factor's recovery code shown once. */
  async addPasskey(me: AccountVisitor, form: FormInput<{ passkey_name: string; webauthn_response: string }>, origin: Origin): Promise<AccountScreen> {
    if (!form.ok || !me.unlocked) return this.refusal(me, form);
    const outcome = await addPasskey(this.deps, { account: me.account, sessionUid: me.sessionUid, response: form.data.webauthn_response, name: form.data.passkey_name, ...origin });
    if (!outcome.ok) return this.overview(me, { error: outcome.reason === 'bad_name' ? 'passkey.bad_name' : outcome.reason === 'too_many' ? 'passkey.too_many' : 'passkey.refused', status: 400 });
    return outcome.recoveryCode ? { show: 'recovery-code', recoveryCode: outcome.recoveryCode } : { show: 'back', notice: 'passkey_added' };
  }

  /** "Verwijderen": the question first (or the reason it cannot be removed). */
  async confirmPasskeyRemoval(me: AccountVisitor, passkeyId: string, form: Empty): Promise<AccountScreen> {
    if (!form.ok || !me.unlocked) return this.refusal(me, form);
    const passkey = (await this.deps.passkeys.listByAccount(me.account.id)).find((p) => p.id === passkeyId);
    if (!passkey) return this.overview(me, { error: 'passkey.not_found', status: 404 });
    return { show: 'passkey-remove-confirm', passkey: { id: passkey.id, name: passkey.name } };
  }

  async removePasskey(me: AccountVisitor, passkeyId: string, form: Empty, origin: Origin): Promise<AccountScreen> {
    if (!form.ok || !me.unlocked) return this.refusal(me, form);
    const outcome = await removePasskey(this.deps, { account: me.account, tenant: me.tenant, passkeyId, ...origin });
    if (outcome.result === 'not_found') return this.overview(me, { error: 'passkey.not_found', status: 404 });
    if (outcome.result === 'last_factor') return this.overview(me, { error: `passkey.last_factor_${outcome.requiredBy}`, status: 409 });
    return { show: 'back', notice: 'passkey_removed' };
  }

  async unlock(me: AccountVisitor, form: FormInput<{ current_password: string }>, origin: Origin): Promise<AccountScreen> {
    if (!form.ok) return this.overview(me, { error: form.messageKey, status: form.status });
    const outcome = await unlockAccountPage(this.deps, { account: me.account, sessionUid: me.sessionUid, password: form.data.current_password, ...origin });
    if (outcome.result === 'wrong_password') return this.overview(me, { error: 'account.wrong_password', status: 401 });
    if (outcome.result === 'locked') return { show: 'locked', minutes: Math.ceil(outcome.seconds / 60) };
    return { show: 'back', notice: 'unlocked' };
  }

  async changePassword(me: AccountVisitor, form: FormInput<{ current_password: string; password: string }>, origin: Origin): Promise<AccountScreen> {
    if (!form.ok) return this.overview(me, { error: form.messageKey, status: form.status });
    const outcome = await changePassword(this.deps, {
      account: me.account,
      tenant: me.tenant,
      currentPassword: form.data.current_password,
      newPassword: form.data.password,
      sessionUid: me.sessionUid,
      ...origin,
    });
    if (outcome.result === 'wrong_password') return this.overview(me, { error: 'account.wrong_password', status: 401 });
    if (outcome.result === 'locked') return { show: 'locked', minutes: Math.ceil(outcome.seconds / 60) };
    if (outcome.result === 'rejected') return this.overview(me, { error: `password.${outcome.problem}`, status: 400 });
    return { show: 'back', notice: 'password_changed' };
  }

  /** "Twee factor inschakelen": a new secret, pending until a code confirms it. */
  async enable(me: AccountVisitor, form: Empty): Promise<AccountScreen> {
    if (!form.ok || !me.unlocked) return this.refusal(me, form);
    // no authenticator app yet (a passkey may be there: the app is added beside it)
    if (!(await this.deps.secondFactors.findTotp(me.account.id))) {
      await this.deps.pageState.savePendingEnrollment(me.sessionUid, beginEnrollment(this.deps, me.account));
    }
    return { show: 'back' };
  }

  async cancel(me: AccountVisitor, form: Empty): Promise<AccountScreen> {
    if (!form.ok || !me.unlocked) return this.refusal(me, form);
    await this.deps.pageState.clearPendingEnrollment(me.sessionUid);
    return { show: 'back' };
  }

  /** "Bevestigen": the code confirms the pending secret; the recovery code is shown once. */
  async confirm(me: AccountVisitor, form: FormInput<{ code: string }>, origin: Origin): Promise<AccountScreen> {
    if (!form.ok || !me.unlocked) return this.refusal(me, form);
    const pending = await this.deps.pageState.pendingEnrollment(me.sessionUid);
    if (!pending) return { show: 'back' };
    const outcome = await confirmEnrollment(this.deps, { account: me.account, sealedSecret: pending, code: form.data.code, ...origin });
    if (!outcome.ok && outcome.reason !== 'already_enabled') return this.overview(me, { error: 'enroll.wrong_code', status: 400 });
    await this.deps.pageState.clearPendingEnrollment(me.sessionUid);
    if (!outcome.ok) return { show: 'back' };
    return { show: 'recovery-code', recoveryCode: outcome.recoveryCode };
  }

  /** "Twee factor uitschakelen": the question first; refused while 2FA is required. */
  async disable(me: AccountVisitor, form: Empty): Promise<AccountScreen> {
    if (!form.ok || !me.unlocked) return this.refusal(me, form);
    const requirement = twoFactorRequirement(me.account.pool, me.tenant.policy, me.account.twoFactorRequired);
    if (requirement.required) return this.overview(me, { error: `account.required_by_${requirement.requiredBy}`, status: 409 });
    return { show: 'disable-confirm' };
  }

  async confirmDisable(me: AccountVisitor, form: Empty, origin: Origin): Promise<AccountScreen> {
    if (!form.ok || !me.unlocked) return this.refusal(me, form);
    const outcome = await disableTwoFactor(this.deps, { account: me.account, tenant: me.tenant, sessionUid: me.sessionUid, ...origin });
    if (!outcome.disabled) return this.overview(me, { error: `account.required_by_${outcome.requiredBy}`, status: 409 });
    return { show: 'back', notice: 'disabled' };
  }

  /** "Vergeet deze browser" (no unlock needed: forgetting only ever asks the code again). */
  async forgetBrowser(me: AccountVisitor, form: FormInput<{ browser: string }>, origin: Origin): Promise<AccountScreen> {
    if (!form.ok) return this.overview(me, { error: form.messageKey, status: form.status });
    if (!(await forgetRememberedBrowser(this.deps, { account: me.account, entryId: form.data.browser, ip: origin.ip }))) return this.overview(me, { error: 'account.browser_not_found', status: 404 });
    return { show: 'back', notice: 'browser_forgotten' };
  }

  async forgetAllBrowsers(me: AccountVisitor, form: Empty, origin: Origin): Promise<AccountScreen> {
    if (!form.ok) return this.overview(me, { error: form.messageKey, status: form.status });
    await forgetAllRememberedBrowsers(this.deps, { account: me.account, ip: origin.ip });
    return { show: 'back', notice: 'browsers_forgotten' };
  }

  /** A form that did not pass, or an action without a fresh unlock. */
  private refusal(me: AccountVisitor, form: FormInput<unknown>): Promise<AccountScreen> {
    if (!form.ok) return this.overview(me, { error: form.messageKey, status: form.status });
    return this.overview(me, { error: 'account.unlock_expired', status: 403 });
  }
}

