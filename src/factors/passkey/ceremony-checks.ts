import { createHash, timingSafeEqual } from 'node:crypto';
import { decodeAttestationObject, decodeClientDataJSON, isoBase64URL, parseAuthenticatorData } from '@simplewebauthn/server/helpers';
import type { RelyingParty } from './relying-party.js';

/**
 * The reasons a response is refused before its signature counts, each checked here so the refusal
 * can say which: @simplewebauthn/server checks the same again (and everything else), but reports
 * only by message text.
 */
export type CeremonyMismatch = 'malformed' | 'wrong_type' | 'wrong_challenge' | 'wrong_origin' | 'wrong_rp_id';

export function checkClientData(clientDataJSON: string, type: 'webauthn.create' | 'webauthn.get', challenge: string, rp: RelyingParty): CeremonyMismatch | undefined {
  let clientData: ReturnType<typeof decodeClientDataJSON>;
  try {
    clientData = decodeClientDataJSON(clientDataJSON);
  } catch {
    return 'malformed';
  }
  if (typeof clientData !== 'object' || clientData === null) return 'malformed';
  if (clientData.type !== type) return 'wrong_type';
  if (typeof clientData.challenge !== 'string' || !sameString(clientData.challenge, challenge)) return 'wrong_challenge';
  if (clientData.origin !== rp.origin) return 'wrong_origin';
  // our pages may not be framed (frame-ancestors 'none'): a ceremony inside another site's frame
  // is someone else's page using ours
  if (clientData.crossOrigin === true || clientData.topOrigin !== undefined) return 'wrong_origin';
  return undefined;
}

/** The authenticator signs the SHA-256 of the RP ID it was asked for; it must be ours. */
export function checkRpIdHash(authenticatorData: Uint8Array<ArrayBuffer>, rp: RelyingParty): CeremonyMismatch | undefined {
  let rpIdHash: Uint8Array;
  try {
    rpIdHash = parseAuthenticatorData(authenticatorData).rpIdHash;
  } catch {
    return 'malformed';
  }
  const ours = createHash('sha256').update(rp.rpID).digest();
  return rpIdHash.length === ours.length && timingSafeEqual(rpIdHash, ours) ? undefined : 'wrong_rp_id';
}

export function authenticatorDataOfAssertion(authenticatorData: string): Uint8Array<ArrayBuffer> | undefined {
  try {
    return isoBase64URL.toBuffer(authenticatorData);
  } catch {
    return undefined;
  }
}

export function authenticatorDataOfAttestation(attestationObject: string): Uint8Array<ArrayBuffer> | undefined {
  try {
    const authData = decodeAttestationObject(isoBase64URL.toBuffer(attestationObject)).get('authData');
    return authData instanceof Uint8Array ? authData : undefined;
  } catch {
    return undefined;
  }
}

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
