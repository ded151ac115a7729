import type { SecretBox } from '../crypto/secret-box.js';
import type { PasskeyFactor } from '../factors/passkey/passkey-factor.js';
import type { RecoveryCodeFactor } from '../factors/recovery-code/recovery-code-factor.js';
import type { SecondFactors } from '../factors/second-factor.js';
import type { TotpFactor } from '../factors/totp/totp-factor.js';
import type { Mailer } from '../mail/mailer.js';
import type { AccountStore } from '../stores/accounts.js';
import type { AuditLog } from '../stores/audit-events.js';
import type { ClientStore } from '../stores/clients.js';
import type { EmailChangeStore } from '../stores/email-changes.js';
import type { AccountLockout, Lockout } from '../stores/lockouts.js';
import type { PasskeyStore } from '../stores/passkeys.js';
import type { PasswordTokenStore } from '../stores/password-tokens.js';
import type { RateLimits } from '../stores/rate-limits.js';
import type { LoginProgressStore } from '../stores/login-progress.js';
import type { RemembranceStore } from '../stores/remembrances.js';
import type { SecondFactorStore } from '../stores/second-factors.js';
import type { TenantStore } from '../stores/tenants.js';
import type { KeyValueStore } from '../stores/kv/key-value-store.js';

/** Ends an account's sessions at Sleutel and its relying parties (implemented in src/oidc). */
export interface SessionTerminator {
  endAll(accountId: string, options?: { exceptUid?: string }): Promise<number>;
}

/** What the flows work with; built once in src/wiring.ts. */
export interface FlowDependencies {
  accounts: AccountStore;
  tenants: TenantStore;
  clients: ClientStore;
  /** the factors' credentials as stored; whether an account has 2FA (any factor) */
  secondFactors: SecondFactorStore;
  /** every second factor Sleutel offers (src/factors/second-factor.ts) */
  factors: SecondFactors;
  totp: TotpFactor;
  recoveryCode: RecoveryCodeFactor;
  passkey: PasskeyFactor;
  /** the passkeys as stored (the account page's list, removal) */
  passkeys: PasskeyStore;
  remembrances: RemembranceStore;
  lockout: AccountLockout;
  ipLockout: Lockout;
  passwordTokens: PasswordTokenStore;
  emailChanges: EmailChangeStore;
  rateLimits: RateLimits;
  progress: LoginProgressStore;
  audit: AuditLog;
  mailer: Mailer;
  box: SecretBox;
  kv: KeyValueStore;
  sessions: SessionTerminator;
  /** the public base URL, for links in mails */
  issuer: string;
}
