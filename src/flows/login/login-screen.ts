import type { Provisioning } from '../../factors/totp.js';
import type { Locale } from '../../locale.js';
import type { Amr } from '../../policy/authentication-level.js';
import type { Pool } from '../../policy/tenant-policy.js';
import type { Tenant } from '../../stores/tenants.js';
import type { BrowserPort } from './renew-remembrance.js';

/** The authorization request a login belongs to, as the screens' routes read it. */
export interface LoginRequest {
  /** the interaction's own uid (from its cookie), which keys the login's progress */
  uid: string;
  clientId: string;
  /** the client's cooperative as recently read (its name for the screens); decisions read it afresh */
  tenant: Tenant;
  pool: Pool;
  ip: string;
  locale: Locale;
  /** the client asked for acr urn:sleutel:acr:2fa */
  twoFactorRequested: boolean;
  /** the client gave max_age (a fresh authentication) */
  maxAgeGiven: boolean;
  /** the account of a session that only has to pass a fresh second factor (a step-up) */
  stepUpAccountId?: string;
  browser: BrowserPort;
}

/** A form as the route read it: its fields, or what was wrong with it (a catalogue key and a status). */
export type FormInput<T> = { ok: true; data: T } | { ok: false; status: number; messageKey: string };

type Problem = { error?: string; status?: number };

/** What a step of the login answers: the screen to show next, or the login's end. */
export type LoginScreen =
  | ({ show: 'login'; email?: string } & Problem)
  | ({ show: 'challenge' | 'recovery'; attemptsLeft?: number } & Problem)
  /** the passkey offered first: `options` for startAuthentication() as JSON; `hasTotp`: the code is an alternative */
  | ({ show: 'passkey'; options: string; hasTotp: boolean; attemptsLeft?: number } & Problem)
  | ({ show: 'enroll'; enrollment: Provisioning; skippable: boolean } & Problem)
  | { show: 'recovery-code'; recoveryCode: string }
  /** the recovery code was shown; the person continues */
  | { show: 'continue'; error?: string }
  /** the challenge's checks are used up */
  | { show: 'ended'; error?: string }
  | { show: 'locked'; minutes: number }
  /** the login moved on to another step: show it (a redirect to the interaction) */
  | { show: 'next' }
  | { show: 'finished'; login: { accountId: string; acr: string; amr: Amr[] } };
