import type { SecretBox } from '../../crypto/secret-box.js';
import type { SecondFactorStore } from '../../stores/second-factors.js';
import type { CodeFactor, Enrollment, EnrollmentResult } from '../second-factor.js';
import { isWellFormedCode, matchTotp, newTotpSecret, provisioning, type Provisioning } from '../totp.js';

/** The sealing context of a secret that awaits its confirming code (never that of a confirmed one). */
const pendingContext = (accountId: string) => `pending-totp:${accountId}`;

/**
 * The TOTP factor (docs/rules.md, rule 1): a code from an authenticator app. Enrollment keeps the
 * new secret only sealed in the enrollment's short-lived state until a current code confirms it;
 * then the secret is stored with that code's time step, so the same code cannot sign in after.
 */
export class TotpFactor implements CodeFactor, Enrollment<Provisioning> {
  readonly id = 'totp';
  readonly amr = ['otp'] as const;
  readonly phishingResistant = false;
  readonly standalone = true;

  constructor(
    private readonly store: SecondFactorStore,
    private readonly box: SecretBox,
  ) {}

  verifier(accountId: string): (code: string) => Promise<boolean> {
    // read while the challenge's state is checked, a round trip sooner; used only if the check runs
    // (a replay is still refused: acceptTimeStep is the atomic check)
    const credential = this.store.findTotp(accountId);
    credential.catch(() => {}); // a failure surfaces where it is awaited, or not at all
    return async (code) => {
      const totp = await credential;
      if (!totp || !isWellFormedCode(code)) return false;
      const step = await matchTotp(totp.secret, code, totp.lastTimeStep);
      return step !== undefined && (await this.store.acceptTimeStep(accountId, step));
    };
  }

  begin(accountId: string): string {
    return this.box.seal(newTotpSecret(), pendingContext(accountId));
  }

  /** The QR code and the key as text, labelled with the tenant's issuer label for the pool. */
  screen(accountId: string, pending: string, label: { issuer: string; accountName: string }): Promise<Provisioning> {
    return provisioning(this.pendingSecret(accountId, pending), label.issuer, label.accountName);
  }

  async confirm(accountId: string, pending: string, code: string, recoveryCodeHash: string): Promise<EnrollmentResult> {
    if (!isWellFormedCode(code)) return 'malformed';
    const secret = this.pendingSecret(accountId, pending);
    const timeStep = await matchTotp(secret, code);
    if (timeStep === undefined) return 'wrong';
    return (await this.store.enable(accountId, secret, timeStep, recoveryCodeHash)) ? 'confirmed' : 'already_enabled';
  }

  private pendingSecret(accountId: string, sealed: string): string {
    return this.box.open(sealed, pendingContext(accountId)).toString('utf8');
  }
}
