import type { Amr } from '../policy/authentication-level.js';

/**
 * A second factor, as the flows use it: what a login proves with it (`amr`), whether it resists
 * phishing, and how a proof of it is checked in a login's challenge. A factor the person sets up
 * themselves implements `Enrollment` as well. Adding one (a passkey, say) takes a folder here with
 * its implementation, a migration for its credentials with the table listed in
 * src/stores/second-factor-tables.ts (which makes it count as "2FA enabled" and be removed on
 * disable, reset and recovery), its entry in the registry built in src/wiring.ts, and its screens
 * (docs/architecture.md § Adding a second factor).
 */
export interface SecondFactor {
  /** stable name, as in the registry */
  readonly id: string;
  /** the `amr` value a login earns by passing it (RFC 8176) */
  readonly amr: Amr;
  /** whether a look-alike site cannot relay it (a code can be relayed; a passkey cannot) */
  readonly phishingResistant: boolean;
  /** whether having it means "2FA enabled" on its own (the recovery code exists only beside another factor) */
  readonly standalone: boolean;
  /**
   * A check of one proof (a code, an assertion) in a login's challenge. Reading what the check
   * needs begins at once, so it overlaps the challenge's own bookkeeping; the returned check is
   * true for exactly one request per proof (a replay or a race is refused atomically).
   */
  verifier(accountId: string): (proof: string) => Promise<boolean>;
}

export type EnrollmentResult = 'confirmed' | 'malformed' | 'wrong' | 'already_enabled';

/** Setting a factor up: a pending credential, shown on a screen, confirmed by a first proof. */
export interface Enrollment<Screen> {
  /** A new credential, sealed, kept only in the enrollment's short-lived state until confirmed. */
  begin(accountId: string): string;
  /** What the enrollment screen shows of the pending credential. */
  screen(accountId: string, pending: string, label: { issuer: string; accountName: string }): Promise<Screen>;
  /** The first proof confirms it: stored, with the hash of the recovery code made with it, in one transaction. */
  confirm(accountId: string, pending: string, proof: string, recoveryCodeHash: string): Promise<EnrollmentResult>;
}

/** The factors Sleutel offers, in the order their `amr` values are listed. */
export class SecondFactors {
  constructor(readonly all: readonly SecondFactor[]) {}

  /** The second factors a login with this `amr` passed now, as `amr` values in the registry's order. */
  passedIn(amr: readonly Amr[]): Amr[] {
    return this.all.filter((f) => amr.includes(f.amr)).map((f) => f.amr);
  }
}
