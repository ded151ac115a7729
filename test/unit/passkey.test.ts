import { createHash } from 'node:crypto';
import { describe, expect, test } from '@jest/globals';
import { verifyAuthenticationResponse, verifyRegistrationResponse } from '@simplewebauthn/server';
import { checkClientData, checkRpIdHash, authenticatorDataOfAssertion } from '../../src/factors/passkey/ceremony-checks.js';
import { counterWentUp, MAX_RESPONSE_LENGTH, normalizePasskeyName, passkeyAmr, relyingPartyFromIssuer } from '../../src/factors/passkey/index.js';
import { parseAuthenticationResponse, parseRegistrationResponse } from '../../src/factors/passkey/responses.js';
import { SoftwareAuthenticator } from '../helpers/software-authenticator.js';

/** The pure part of the passkey factor (issue 21): no store, no HTTP. */
const rp = relyingPartyFromIssuer('https://login.zonnig.example/oidc');
const CHALLENGE = Buffer.alloc(32, 7).toString('base64url');
const registrationOptions = { challenge: CHALLENGE, rp: { id: rp.rpID }, user: { id: 'dXNlcg' } };

describe('the relying party follows ISSUER', () => {
  test('RP ID is the host, origin the origin (a path in ISSUER does not count)', () => {
    expect(rp).toEqual({ rpID: 'login.zonnig.example', origin: 'https://login.zonnig.example', name: 'Sleutel', available: true });
    expect(relyingPartyFromIssuer('http://localhost:3000', 'Zon op Zuid')).toEqual({ rpID: 'localhost', origin: 'http://localhost:3000', name: 'Zon op Zuid', available: true });
  });

  test('browsers refuse an IP address as RP ID and plain http off localhost: passkeys not available there', () => {
    expect(relyingPartyFromIssuer('http://127.0.0.1:3000')).toMatchObject({ rpID: '127.0.0.1', available: false });
    expect(relyingPartyFromIssuer('https://[::1]:3000')).toMatchObject({ available: false });
    expect(relyingPartyFromIssuer('http://login.zonnig.example')).toMatchObject({ available: false });
    expect(relyingPartyFromIssuer('http://sleutel.localhost:3000')).toMatchObject({ available: true });
  });
});

describe('the amr a passkey earns (RFC 8176)', () => {
  test('hwk for a device-bound key, swk for a synced one (eligible for backup or backed up)', () => {
    expect(passkeyAmr('singleDevice', false)).toBe('hwk');
    expect(passkeyAmr('multiDevice', false)).toBe('swk');
    expect(passkeyAmr('multiDevice', true)).toBe('swk');
    // backed up without being eligible violates WebAuthn; it is not bound to hardware either way
    expect(passkeyAmr('singleDevice', true)).toBe('swk');
  });
});

describe('the signature counter rule', () => {
  test.each([
    [0, 0, true], // an authenticator without a counter
    [0, 1, true],
    [5, 6, true],
    [5, 1000, true],
    [5, 5, false], // the same counter again: a replay or a clone
    [5, 4, false], // going back: a clone
    [5, 0, false], // a counter that stopped counting
    [0xfffffffe, 0xffffffff, true],
  ])('stored %d, presented %d → %s', (stored, presented, accepted) => {
    expect(counterWentUp(stored, presented)).toBe(accepted);
  });
});

describe('the passkey name', () => {
  test('trimmed, NFC, 1 to 100 characters, no control characters', () => {
    expect(normalizePasskeyName('  iPhone Anna ')).toBe('iPhone Anna');
    expect(normalizePasskeyName('Sleutel van Jose\u0301')).toBe('Sleutel van José');
    expect(normalizePasskeyName('é'.repeat(100))).toBe('é'.repeat(100));
    expect(normalizePasskeyName('🔑'.repeat(100))).toBe('🔑'.repeat(100));
    for (const bad of ['', '   ', 'a'.repeat(101), 'tab\there', 'nul\u0000', 'line\u2028break', 42, null, undefined, ['iPhone'], { name: 'x' }]) {
      expect(normalizePasskeyName(bad)).toBeUndefined();
    }
  });
});

describe('the software authenticator is real WebAuthn', () => {
  test('@simplewebauthn/server accepts its registration and assertion on its own', async () => {
    const authenticator = new SoftwareAuthenticator();
    const { response, credential } = authenticator.register(registrationOptions, rp.origin);
    const registered = await verifyRegistrationResponse({ response, expectedChallenge: CHALLENGE, expectedOrigin: rp.origin, expectedRPID: rp.rpID });
    expect(registered.verified).toBe(true);
    expect(registered.registrationInfo?.credential.id).toBe(credential.id);
    expect(registered.registrationInfo?.credentialDeviceType).toBe('singleDevice');

    const assertion = authenticator.assert(credential, { challenge: CHALLENGE }, rp.origin);
    const verified = await verifyAuthenticationResponse({
      response: assertion,
      expectedChallenge: CHALLENGE,
      expectedOrigin: rp.origin,
      expectedRPID: rp.rpID,
      credential: registered.registrationInfo!.credential,
    });
    expect(verified.verified).toBe(true);
    expect(verified.authenticationInfo.newCounter).toBe(2);
  });

  test('a synced passkey reports multiDevice and backed up', async () => {
    const { response } = new SoftwareAuthenticator({ backupEligible: true, backedUp: true, counterStep: 0 }).register(registrationOptions, rp.origin);
    const registered = await verifyRegistrationResponse({ response, expectedChallenge: CHALLENGE, expectedOrigin: rp.origin, expectedRPID: rp.rpID });
    expect(registered.registrationInfo).toMatchObject({ credentialDeviceType: 'multiDevice', credentialBackedUp: true, credential: { counter: 0 } });
  });
});

describe('reading what the browser posts', () => {
  const authenticator = new SoftwareAuthenticator();
  const { response: registration, credential } = authenticator.register(registrationOptions, rp.origin);
  const assertion = authenticator.assert(credential, { challenge: CHALLENGE }, rp.origin);

  test('well-formed responses are read; unknown transports dropped', () => {
    expect(parseRegistrationResponse(JSON.stringify(registration))).toMatchObject({ id: credential.id, response: { transports: ['usb'] } });
    expect(parseAuthenticationResponse(JSON.stringify(assertion))).toMatchObject({ id: credential.id });
  });

  test.each([
    ['not JSON', '{"id":'],
    ['JSON of another shape', '[1,2,3]'],
    ['empty', ''],
    ['not a string', 42],
    ['too large', JSON.stringify({ ...assertion, padding: 'x'.repeat(MAX_RESPONSE_LENGTH) })],
    ['deeply nested', '['.repeat(30_000) + ']'.repeat(30_000)],
    ['id and rawId differ', JSON.stringify({ ...assertion, rawId: 'AAAA' })],
    ['not base64url', JSON.stringify({ ...assertion, response: { ...assertion.response, signature: 'ab+/==' } })],
    ['a huge field', JSON.stringify({ ...assertion, response: { ...assertion.response, signature: 'A'.repeat(9000) } })],
    ['an array for a string', JSON.stringify({ ...assertion, id: [assertion.id] })],
    ['another type', JSON.stringify({ ...assertion, type: 'password' })],
  ])('%s is refused', (_name, raw) => {
    expect(parseAuthenticationResponse(raw)).toBeUndefined();
  });

  test('a registration without its attestation object is refused', () => {
    const { attestationObject: _dropped, ...rest } = registration.response;
    expect(parseRegistrationResponse(JSON.stringify({ ...registration, response: rest }))).toBeUndefined();
    // an assertion is not a registration
    expect(parseRegistrationResponse(JSON.stringify(assertion))).toBeUndefined();
  });
});

describe('the ceremony checks name what is wrong', () => {
  const authenticator = new SoftwareAuthenticator();
  const { credential } = authenticator.register(registrationOptions, rp.origin);
  const clientData = (overrides: Parameters<SoftwareAuthenticator['assert']>[3]) =>
    authenticator.assert(credential, { challenge: CHALLENGE }, rp.origin, overrides).response.clientDataJSON;

  test('challenge, origin and type', () => {
    expect(checkClientData(clientData({}), 'webauthn.get', CHALLENGE, rp)).toBeUndefined();
    expect(checkClientData(clientData({ challenge: 'b3RoZXI' }), 'webauthn.get', CHALLENGE, rp)).toBe('wrong_challenge');
    expect(checkClientData(clientData({ origin: 'https://login.zonnig.example.evil' }), 'webauthn.get', CHALLENGE, rp)).toBe('wrong_origin');
    expect(checkClientData(clientData({ origin: 'http://login.zonnig.example' }), 'webauthn.get', CHALLENGE, rp)).toBe('wrong_origin');
    expect(checkClientData(clientData({}), 'webauthn.create', CHALLENGE, rp)).toBe('wrong_type');
    // inside another site's frame
    expect(checkClientData(clientData({ topOrigin: 'https://evil.example' }), 'webauthn.get', CHALLENGE, rp)).toBe('wrong_origin');
    expect(checkClientData(Buffer.from('not json').toString('base64url'), 'webauthn.get', CHALLENGE, rp)).toBe('malformed');
  });

  test('the RP ID hash', () => {
    const ours = authenticatorDataOfAssertion(authenticator.assert(credential, { challenge: CHALLENGE }, rp.origin).response.authenticatorData)!;
    const theirs = authenticatorDataOfAssertion(authenticator.assert(credential, { challenge: CHALLENGE }, rp.origin, { rpId: 'zonnig.example' }).response.authenticatorData)!;
    expect(checkRpIdHash(ours, rp)).toBeUndefined();
    expect(checkRpIdHash(theirs, rp)).toBe('wrong_rp_id');
    expect(createHash('sha256').update(rp.rpID).digest().equals(Buffer.from(ours.subarray(0, 32)))).toBe(true);
    expect(checkRpIdHash(new Uint8Array(10), rp)).toBe('malformed');
  });
});
