import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import type { PasskeyCredential, PasskeyStore } from '../../stores/passkeys.js';
import { authenticatorDataOfAssertion, authenticatorDataOfAttestation, checkClientData, checkRpIdHash, type CeremonyMismatch } from './ceremony-checks.js';
import { CEREMONY_TIMEOUT_MS, type PasskeyChallenges } from './challenges.js';
import { passkeyAmr, type PasskeyAmr } from './passkey-amr.js';
import type { RelyingParty } from './relying-party.js';
import type { ChallengeFactor, OneCallEnrollment } from '../second-factor.js';
import { normalizePasskeyName, parseAuthenticationResponse, parseRegistrationResponse } from './responses.js';

/** Enough for a phone, a laptop and a few security keys; more is more likely a script than a person. */
export const MAX_PASSKEYS_PER_ACCOUNT = 10;

export type RegistrationRefusal = 'malformed' | 'bad_name' | 'too_many' | 'challenge_missing' | CeremonyMismatch | 'invalid' | 'already_registered';
export type AuthenticationRefusal = 'malformed' | 'challenge_missing' | CeremonyMismatch | 'unknown_credential' | 'invalid' | 'cloned';

export type RegistrationResult = { ok: true; passkey: PasskeyCredential } | { ok: false; reason: RegistrationRefusal; detail?: string };

export type AuthenticationResult =
  | { ok: true; amr: PasskeyAmr; passkey: PasskeyCredential }
  /** `cloned`: a validly signed assertion whose counter did not go up; `passkey` says which, for the audit event */
  | { ok: false; reason: 'cloned'; passkey: PasskeyCredential; presentedCounter: number; detail?: string }
  | { ok: false; reason: Exclude<AuthenticationRefusal, 'cloned'>; detail?: string };

export interface PasskeyHolder {
  accountId: string;
  /** the login's interaction uid or the account page's session uid: a challenge belongs to one */
  flowId: string;
}

/**
 * Passkeys (WebAuthn) as a second factor (issue 21), on @simplewebauthn/server. Pure of HTTP: the
 * caller hands over the account, the flow and the browser's JSON as it arrived; every answer is a
 * result, never a throw for bad input. Attestation `none` (we do not vet authenticator makes), user
 * verification preferred but not required (the password came first; a touch proves presence).
 * A refusal changes nothing stored; the challenge is used up by any response that reaches it.
 */
export class PasskeyFactor
  implements
    ChallengeFactor<PublicKeyCredentialRequestOptionsJSON, AuthenticationRefusal>,
    OneCallEnrollment<PublicKeyCredentialCreationOptionsJSON, PasskeyCredential, RegistrationRefusal>
{
  readonly id = 'passkey';
  /** hwk for a device-bound key, swk for a synced one (passkey-amr.ts) */
  readonly amr = ['hwk', 'swk'] as const;
  readonly phishingResistant = true;
  /** a passkey alone means "2FA enabled" */
  readonly standalone = true;

  constructor(
    private readonly store: PasskeyStore,
    private readonly challenges: PasskeyChallenges,
    private readonly rp: RelyingParty,
  ) {}

  /** whether browsers will run a ceremony for our ISSUER (relying-party.ts); where not, no screen offers passkeys */
  get available(): boolean {
    return this.rp.available;
  }

  // the factor interface's names (src/factors/second-factor.ts) for the ceremonies below
  challenge(holder: PasskeyHolder): Promise<PublicKeyCredentialRequestOptionsJSON | undefined> {
    return this.authenticationOptions(holder);
  }

  verify(holder: PasskeyHolder, response: unknown): Promise<AuthenticationResult> {
    return this.authenticate(holder, response);
  }

  enrollmentOptions(holder: PasskeyHolder, user: { name: string; displayName: string }): Promise<PublicKeyCredentialCreationOptionsJSON> {
    return this.registrationOptions(holder, user);
  }

  async enroll(holder: PasskeyHolder, response: unknown, name: unknown): Promise<{ ok: true; enrolled: PasskeyCredential } | { ok: false; reason: RegistrationRefusal }> {
    const result = await this.register(holder, response, name);
    return result.ok ? { ok: true, enrolled: result.passkey } : result;
  }

  /** What the account page hands to startRegistration(); the account's passkeys are excluded. */
  async registrationOptions(holder: PasskeyHolder, user: { name: string; displayName: string }): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const existing = await this.store.listByAccount(holder.accountId);
    const options = await generateRegistrationOptions({
      rpName: this.rp.name,
      rpID: this.rp.rpID,
      // the user handle: the account's UUID (its `sub`), stable and without personal data, so a
      // second registration on the same device replaces the first instead of piling up
      userID: uuidBytes(holder.accountId),
      userName: user.name,
      userDisplayName: user.displayName,
      timeout: CEREMONY_TIMEOUT_MS,
      attestationType: 'none',
      excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: p.transports })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
    });
    await this.challenges.keep(holder.accountId, 'register', holder.flowId, options.challenge);
    return options;
  }

  /** Verifies startRegistration()'s answer and stores the passkey under the holder's label. */
  async register(holder: PasskeyHolder, rawResponse: unknown, rawName: unknown): Promise<RegistrationResult> {
    const response = parseRegistrationResponse(rawResponse);
    if (!response) return { ok: false, reason: 'malformed' };
    const name = normalizePasskeyName(rawName);
    if (!name) return { ok: false, reason: 'bad_name' };
    if ((await this.store.countByAccount(holder.accountId)) >= MAX_PASSKEYS_PER_ACCOUNT) return { ok: false, reason: 'too_many' };

    const challenge = await this.challenges.take(holder.accountId, 'register', holder.flowId);
    if (challenge === null) return { ok: false, reason: 'challenge_missing' };
    const mismatch = checkClientData(response.response.clientDataJSON, 'webauthn.create', challenge, this.rp);
    if (mismatch) return { ok: false, reason: mismatch };
    const authData = authenticatorDataOfAttestation(response.response.attestationObject);
    if (!authData) return { ok: false, reason: 'malformed' };
    const wrongRp = checkRpIdHash(authData, this.rp);
    if (wrongRp) return { ok: false, reason: wrongRp };

    let verified: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
    try {
      verified = await verifyRegistrationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin: this.rp.origin,
        expectedRPID: this.rp.rpID,
        requireUserVerification: false,
      });
    } catch (error) {
      return { ok: false, reason: 'invalid', detail: (error as Error).message };
    }
    if (!verified.verified) return { ok: false, reason: 'invalid' };
    const info = verified.registrationInfo;
    // the library takes the id from the signed authenticator data and ignores the JSON's; a
    // browser sends the same, so a difference is a tampered response
    if (info.credential.id !== response.id) return { ok: false, reason: 'invalid', detail: 'credential id differs from the attested one' };
    const passkey = await this.store.add({
      accountId: holder.accountId,
      credentialId: info.credential.id,
      publicKey: info.credential.publicKey,
      counter: info.credential.counter,
      transports: response.response.transports ?? [],
      deviceType: info.credentialDeviceType,
      backedUp: info.credentialBackedUp,
      name,
    });
    return passkey ? { ok: true, passkey } : { ok: false, reason: 'already_registered' };
  }

  /** What the login hands to startAuthentication(), or undefined when the account has no passkey. */
  async authenticationOptions(holder: PasskeyHolder): Promise<PublicKeyCredentialRequestOptionsJSON | undefined> {
    const passkeys = await this.store.listByAccount(holder.accountId);
    if (passkeys.length === 0) return undefined;
    const options = await generateAuthenticationOptions({
      rpID: this.rp.rpID,
      allowCredentials: passkeys.map((p) => ({ id: p.credentialId, transports: p.transports })),
      userVerification: 'preferred',
      timeout: CEREMONY_TIMEOUT_MS,
    });
    await this.challenges.keep(holder.accountId, 'authenticate', holder.flowId, options.challenge);
    return options;
  }

  /**
   * Verifies startAuthentication()'s answer for the holder: our challenge, origin and RP ID, one of
   * the holder's own passkeys, its signature, and a counter that went up (or stays 0 for an
   * authenticator without one). The counter is recorded atomically; the `amr` follows the
   * authenticator's flags in this assertion.
   */
  async authenticate(holder: PasskeyHolder, rawResponse: unknown): Promise<AuthenticationResult> {
    const response = parseAuthenticationResponse(rawResponse);
    if (!response) return { ok: false, reason: 'malformed' };
    const challenge = await this.challenges.take(holder.accountId, 'authenticate', holder.flowId);
    if (challenge === null) return { ok: false, reason: 'challenge_missing' };
    const mismatch = checkClientData(response.response.clientDataJSON, 'webauthn.get', challenge, this.rp);
    if (mismatch) return { ok: false, reason: mismatch };
    const authData = authenticatorDataOfAssertion(response.response.authenticatorData);
    if (!authData) return { ok: false, reason: 'malformed' };
    const wrongRp = checkRpIdHash(authData, this.rp);
    if (wrongRp) return { ok: false, reason: wrongRp };

    const passkey = await this.store.findByCredentialId(response.id);
    // another account's credential answers like an unknown one
    if (!passkey || passkey.accountId !== holder.accountId) return { ok: false, reason: 'unknown_credential' };

    let verified: Awaited<ReturnType<typeof verifyAuthenticationResponse>>;
    try {
      verified = await verifyAuthenticationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin: this.rp.origin,
        expectedRPID: this.rp.rpID,
        // counter 0 here: the library would judge the counter before the signature; we judge it
        // after, so only a validly signed assertion can be reported as a clone
        credential: { id: passkey.credentialId, publicKey: passkey.publicKey, counter: 0, transports: passkey.transports },
        requireUserVerification: false,
      });
    } catch (error) {
      return { ok: false, reason: 'invalid', detail: (error as Error).message };
    }
    if (!verified.verified) return { ok: false, reason: 'invalid', detail: 'signature' };

    const { newCounter, credentialDeviceType, credentialBackedUp } = verified.authenticationInfo;
    if (!counterWentUp(passkey.counter, newCounter)) {
      return { ok: false, reason: 'cloned', passkey, presentedCounter: newCounter, detail: `counter ${newCounter} after ${passkey.counter}` };
    }
    const recorded = await this.store.recordUse(holder.accountId, passkey.credentialId, newCounter, credentialBackedUp);
    if (recorded === 'missing') return { ok: false, reason: 'unknown_credential', detail: 'removed meanwhile' };
    if (recorded === 'not_increased') {
      return { ok: false, reason: 'cloned', passkey, presentedCounter: newCounter, detail: `counter ${newCounter} not above the stored one` };
    }
    const used = { ...passkey, counter: newCounter, backedUp: credentialBackedUp, lastUsedAt: new Date() };
    // the device type as registered: an authenticator does not become device-bound later
    return { ok: true, amr: passkeyAmr(passkey.deviceType === 'multiDevice' ? 'multiDevice' : credentialDeviceType, credentialBackedUp), passkey: used };
  }
}

/**
 * WebAuthn's signature counter rule (§6.1.1): it must go up at every use, except for an
 * authenticator that keeps none (both 0). Equal or lower means another copy of the key was used.
 */
export function counterWentUp(stored: number, presented: number): boolean {
  return presented > stored || (presented === 0 && stored === 0);
}

function uuidBytes(uuid: string): Uint8Array<ArrayBuffer> {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new Error('passkey: the account id is not a UUID');
  return new Uint8Array(Buffer.from(hex, 'hex'));
}
