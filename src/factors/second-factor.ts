import type { Amr } from '../policy/authentication-level.js';

/**
 * A second factor, as the flows use it: what a login proves with it (`amr`), whether it resists
 * phishing, and how a proof of it is checked in a login's challenge (a typed code: CodeFactor; an
 * answer to our challenge: ChallengeFactor). A factor the person sets up themselves implements
 * `Enrollment` (TOTP) or `OneCallEnrollment` (the passkey) as well. Adding one takes a folder here with
 * its implementation, a migration for its credentials with the table listed in
 * src/stores/second-factor-tables.ts (which makes it count as "2FA enabled" and be removed on
 * disable, reset and recovery), its entry in the registry built in src/wiring.ts, and its screens
 * (docs/architecture.md § Adding a second factor).
 */
export interface SecondFactor {
  /** stable name, as in the registry */
  readonly id: string;
  /** the `amr` values (RFC 8176) a login can earn by passing it: one for a code, `hwk` or `swk` for a passkey */
  readonly amr: readonly Amr[];
  /** whether a look-alike site cannot relay it (a code can be relayed; a passkey cannot) */
  readonly phishingResistant: boolean;
  /** whether having it means "2FA enabled" on its own (the recovery code exists only beside another factor) */
  readonly standalone: boolean;
}

/** A factor proved by something the person types (a code, a recovery code). */
export interface CodeFactor extends SecondFactor {
  /**
   * A check of one proof (a code) in a login's challenge. Reading what the check needs begins at
   * once, so it overlaps the challenge's own bookkeeping; the returned check is true for exactly
   * one request per proof (a replay or a race is refused atomically).
   */
  verifier(accountId: string): (proof: string) => Promise<boolean>;
}

/** Whose challenge: the account, and the flow it belongs to (a login's interaction uid, the account page's session uid). */
export interface FactorHolder {
  accountId: string;
  flowId: string;
}

/** A check's verdict: the `amr` earned, or why not (the reason is for the audit log, never the screen). */
export type Verdict<Reason extends string = string> = { ok: true; amr: Amr } | { ok: false; reason: Reason };

/**
 * A factor whose proof answers a challenge Sleutel made (a passkey's assertion): the challenge
 * step hands the browser what it needs (undefined when the account has no credential of this
 * factor), the verifier judges the browser's answer, once.
 */
export interface ChallengeFactor<Options = unknown, Reason extends string = string> extends SecondFactor {
  challenge(holder: FactorHolder): Promise<Options | undefined>;
  verify(holder: FactorHolder, response: unknown): Promise<Verdict<Reason>>;
}

/**
 * Setting up a factor in one call (a passkey): options for the browser, then its answer is
 * verified and stored at once, under a name the person chose.
 */
export interface OneCallEnrollment<Options = unknown, Enrolled = unknown, Reason extends string = string> {
  enrollmentOptions(holder: FactorHolder, user: { name: string; displayName: string }): Promise<Options>;
  enroll(holder: FactorHolder, response: unknown, name: unknown): Promise<{ ok: true; enrolled: Enrolled } | { ok: false; reason: Reason }>;
}

export type EnrollmentResult = 'confirmed' | 'malformed' | 'wrong' | 'already_enabled';

/** Setting a factor up in steps (TOTP): a pending credential, shown on a screen, confirmed by a first proof. */
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
    return this.all.flatMap((f) => f.amr.filter((value) => amr.includes(value)));
  }
}
