import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';

/**
 * A WebAuthn authenticator in software, on node:crypto: one ES256 key pair per credential,
 * authenticatorData with the RP ID's hash, flags and counter, clientDataJSON with the challenge
 * and origin, attestation `none` in CBOR (the encoder @simplewebauthn/server itself uses). It
 * answers what a browser's navigator.credentials.create/get would, as @simplewebauthn/browser's
 * JSON; every part can be made wrong on purpose.
 */

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_BE = 0x08;
const FLAG_BS = 0x10;
const FLAG_AT = 0x40;

const b64url = (bytes: Uint8Array | Buffer) => Buffer.from(bytes).toString('base64url');
const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest();

export interface SoftwareCredential {
  /** base64url */
  id: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** the next assertion's counter is this + step (0 stays 0 for a counterless one) */
  counter: number;
  rpId: string;
  /** backup eligible (a synced passkey) and backed up */
  backupEligible: boolean;
  backedUp: boolean;
}

export interface CeremonyOverrides {
  origin?: string;
  rpId?: string;
  challenge?: string;
  type?: string;
  userVerified?: boolean;
  /** as a browser reports a ceremony inside a frame of another origin */
  topOrigin?: string;
}

export class SoftwareAuthenticator {
  /**
   * @param options.counterStep how much the counter rises at each assertion; 0 makes a
   *   counterless authenticator (as synced passkeys are)
   */
  constructor(private readonly options: { backupEligible?: boolean; backedUp?: boolean; counterStep?: number } = {}) {}

  private get step() {
    return this.options.counterStep ?? 1;
  }

  /**
   * navigator.credentials.create() for these options; the credential is returned for later
   * assertions. `overrides.credential` registers an existing credential again (its id and key).
   */
  register(
    options: { challenge: string; rp: { id?: string }; user: { id: string } },
    origin: string,
    overrides: CeremonyOverrides & { credential?: SoftwareCredential } = {},
  ): { response: RegistrationResponseJSON; credential: SoftwareCredential } {
    const rpId = overrides.rpId ?? options.rp.id!;
    const { privateKey, publicKey } = overrides.credential ?? generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const cose = isoCBOR.encode(
      new Map<number, number | Uint8Array>([
        [1, 2], // kty: EC2
        [3, -7], // alg: ES256
        [-1, 1], // crv: P-256
        [-2, new Uint8Array(Buffer.from(jwk.x!, 'base64url'))],
        [-3, new Uint8Array(Buffer.from(jwk.y!, 'base64url'))],
      ]),
    );
    const credentialId = overrides.credential ? Buffer.from(overrides.credential.id, 'base64url') : randomBytes(32);
    const credential: SoftwareCredential = {
      id: b64url(credentialId),
      privateKey,
      publicKey,
      counter: this.step === 0 ? 0 : 1,
      rpId: options.rp.id!,
      backupEligible: this.options.backupEligible ?? false,
      backedUp: this.options.backedUp ?? false,
    };
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(credentialId.length);
    const attestedCredentialData = Buffer.concat([Buffer.alloc(16) /* aaguid: none */, idLength, credentialId, Buffer.from(cose)]);
    const authData = Buffer.concat([this.authenticatorData(rpId, credential, credential.counter, FLAG_AT, overrides), attestedCredentialData]);
    const attestationObject = isoCBOR.encode(
      new Map<string, string | Uint8Array | Map<string, string>>([
        ['fmt', 'none'],
        ['attStmt', new Map<string, string>()],
        ['authData', new Uint8Array(authData)],
      ]),
    );
    const clientDataJSON = this.clientData('webauthn.create', options.challenge, origin, overrides);
    return {
      credential,
      response: {
        id: credential.id,
        rawId: credential.id,
        type: 'public-key',
        authenticatorAttachment: 'cross-platform',
        clientExtensionResults: {},
        response: { clientDataJSON: b64url(clientDataJSON), attestationObject: b64url(attestationObject), transports: ['usb', 'future-transport'] },
      },
    };
  }

  /**
   * navigator.credentials.get() with this credential. The counter rises by the step first, unless
   * `counter` says what to present (to play a clone or a replay).
   */
  assert(
    credential: SoftwareCredential,
    options: { challenge: string; rpId?: string },
    origin: string,
    overrides: CeremonyOverrides & { counter?: number } = {},
  ): AuthenticationResponseJSON {
    const rpId = overrides.rpId ?? options.rpId ?? credential.rpId;
    if (overrides.counter === undefined) credential.counter += this.step;
    const counter = overrides.counter ?? credential.counter;
    const authData = this.authenticatorData(rpId, credential, counter, 0, overrides);
    const clientDataJSON = this.clientData('webauthn.get', options.challenge, origin, overrides);
    // ES256 as WebAuthn has it: ECDSA over authenticatorData ‖ SHA-256(clientDataJSON), DER-encoded
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), credential.privateKey);
    return {
      id: credential.id,
      rawId: credential.id,
      type: 'public-key',
      authenticatorAttachment: 'cross-platform',
      clientExtensionResults: {},
      response: { clientDataJSON: b64url(clientDataJSON), authenticatorData: b64url(authData), signature: b64url(signature) },
    };
  }

  private authenticatorData(rpId: string, credential: SoftwareCredential, counter: number, extraFlags: number, overrides: CeremonyOverrides): Buffer {
    let flags = FLAG_UP | extraFlags;
    if (overrides.userVerified ?? true) flags |= FLAG_UV;
    if (credential.backupEligible) flags |= FLAG_BE;
    if (credential.backedUp) flags |= FLAG_BS;
    const counterBytes = Buffer.alloc(4);
    counterBytes.writeUInt32BE(counter);
    return Buffer.concat([sha256(rpId), Buffer.from([flags]), counterBytes]);
  }

  private clientData(type: string, challenge: string, origin: string, overrides: CeremonyOverrides): Buffer {
    return Buffer.from(
      JSON.stringify({
        type: overrides.type ?? type,
        challenge: overrides.challenge ?? challenge,
        origin: overrides.origin ?? origin,
        crossOrigin: overrides.topOrigin !== undefined,
        ...(overrides.topOrigin === undefined ? {} : { topOrigin: overrides.topOrigin }),
      }),
    );
  }
}
