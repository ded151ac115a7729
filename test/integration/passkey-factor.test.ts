import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { CHALLENGE_TTL_SECONDS, MAX_PASSKEYS_PER_ACCOUNT, MAX_RESPONSE_LENGTH, PasskeyChallenges, PasskeyFactor, relyingPartyFromIssuer, type PasskeyHolder } from '../../src/factors/passkey/index.js';
import { AccountStore } from '../../src/stores/accounts.js';
import { migrate } from '../../src/stores/database.js';
import { PasskeyStore } from '../../src/stores/passkeys.js';
import { TenantStore, type Tenant } from '../../src/stores/tenants.js';
import { SoftwareAuthenticator, type SoftwareCredential } from '../helpers/software-authenticator.js';
import { openTestStores, storeModes, type TestStores } from '../helpers/stores.js';

/**
 * The passkey factor end to end on real stores (issue 21): registration and sign-in with a
 * software authenticator, and every bad input refused with its reason while nothing is stored and
 * no counter moves. Challenges live in the key-value store (Redis in the second mode), single use.
 */
const ISSUER = 'https://login.zonnig.example';
const rp = relyingPartyFromIssuer(ISSUER, 'Zon op Zuid');
const user = { name: 'anna@example.nl', displayName: 'Anna' };

describe.each(storeModes)('PasskeyFactor (%s)', (mode) => {
  let stores: TestStores;
  let tenant: Tenant;
  let passkeys: PasskeyStore;
  let factor: PasskeyFactor;
  let emails = 0;
  const holder = async (): Promise<PasskeyHolder> => ({
    accountId: (await new AccountStore(stores.db).create({ tenantId: tenant.id, pool: 'portal', email: `lid${(emails += 1)}@example.nl` })).id,
    flowId: randomBytes(12).toString('base64url'),
  });
  const challengeKey = (h: PasskeyHolder, purpose: string) => `passkey-challenge:{${h.accountId}}:${purpose}:${h.flowId}`;

  /** An account with one registered passkey of this authenticator. */
  const registered = async (authenticator = new SoftwareAuthenticator()) => {
    const h = await holder();
    const options = await factor.registrationOptions(h, user);
    const { response, credential } = authenticator.register(options, rp.origin);
    const result = await factor.register(h, JSON.stringify(response), 'YubiKey Anna');
    if (!result.ok) throw new Error(`registration refused: ${result.reason}`);
    return { h, authenticator, credential, passkey: result.passkey };
  };
  const signIn = async (h: PasskeyHolder, authenticator: SoftwareAuthenticator, credential: SoftwareCredential, overrides = {}) => {
    const options = (await factor.authenticationOptions(h))!;
    return factor.authenticate(h, JSON.stringify(authenticator.assert(credential, options, rp.origin, overrides)));
  };
  const stored = (credentialId: string) => passkeys.findByCredentialId(credentialId);

  beforeAll(async () => {
    stores = await openTestStores(mode);
    await migrate(stores.db);
    tenant = await new TenantStore(stores.db).create({ slug: `t-${randomBytes(4).toString('hex')}`, name: 'Zon op Zuid' });
    passkeys = new PasskeyStore(stores.db);
    factor = new PasskeyFactor(passkeys, new PasskeyChallenges(stores.kv), rp);
  });
  afterAll(async () => {
    await stores.dispose();
  });

  describe('registration then sign-in', () => {
    test('a device-bound key: registered under its name, signs in with amr hwk, the counter recorded', async () => {
      const h = await holder();
      const options = await factor.registrationOptions(h, user);
      expect(options).toMatchObject({
        rp: { id: 'login.zonnig.example', name: 'Zon op Zuid' },
        user: { name: 'anna@example.nl', displayName: 'Anna', id: Buffer.from(h.accountId.replace(/-/g, ''), 'hex').toString('base64url') },
        attestation: 'none',
        excludeCredentials: [],
        authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
      });
      // single use, short-lived, hash-tagged by account for Redis Cluster
      expect(await stores.kv.get(challengeKey(h, 'register'))).toBe(options.challenge);
      const ttl = await stores.kv.ttl(challengeKey(h, 'register'));
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(CHALLENGE_TTL_SECONDS);

      const authenticator = new SoftwareAuthenticator();
      const { response, credential } = authenticator.register(options, rp.origin);
      const result = await factor.register(h, JSON.stringify(response), '  iPhone Anna ');
      expect(result).toMatchObject({ ok: true, passkey: { accountId: h.accountId, credentialId: credential.id, name: 'iPhone Anna', counter: 1, deviceType: 'singleDevice', backedUp: false, transports: ['usb'] } });
      expect(await stores.kv.get(challengeKey(h, 'register'))).toBeNull();

      const signInOptions = (await factor.authenticationOptions(h))!;
      expect(signInOptions).toMatchObject({ rpId: 'login.zonnig.example', userVerification: 'preferred', allowCredentials: [{ id: credential.id, type: 'public-key', transports: ['usb'] }] });
      const assertion = authenticator.assert(credential, signInOptions, rp.origin);
      const signedIn = await factor.authenticate(h, JSON.stringify(assertion));
      expect(signedIn).toMatchObject({ ok: true, amr: 'hwk', passkey: { credentialId: credential.id, counter: 2 } });
      expect(await stores.kv.get(challengeKey(h, 'authenticate'))).toBeNull();
      const after = (await stored(credential.id))!;
      expect(after.counter).toBe(2);
      expect(after.lastUsedAt).toBeInstanceOf(Date);
      expect(factor.phishingResistant).toBe(true);
    });

    test('a synced passkey without a counter: amr swk, signs in again and again at counter 0', async () => {
      const { h, authenticator, credential, passkey } = await registered(new SoftwareAuthenticator({ backupEligible: true, backedUp: true, counterStep: 0 }));
      expect(passkey).toMatchObject({ deviceType: 'multiDevice', backedUp: true, counter: 0 });
      for (let i = 0; i < 2; i += 1) expect(await signIn(h, authenticator, credential)).toMatchObject({ ok: true, amr: 'swk' });
    });

    test('a backup-eligible key not yet backed up is still swk; a later backup is recorded', async () => {
      const { h, authenticator, credential } = await registered(new SoftwareAuthenticator({ backupEligible: true, backedUp: false }));
      expect(await signIn(h, authenticator, credential)).toMatchObject({ ok: true, amr: 'swk' });
      credential.backedUp = true;
      expect(await signIn(h, authenticator, credential)).toMatchObject({ ok: true, amr: 'swk' });
      expect((await stored(credential.id))!.backedUp).toBe(true);
    });

    test('several passkeys per account: each new registration excludes the earlier ones; sign-in allows only the account’s', async () => {
      const { h } = await registered();
      const second = new SoftwareAuthenticator();
      const options = await factor.registrationOptions(h, user);
      const firstId = (await passkeys.listByAccount(h.accountId))[0]!.credentialId;
      expect(options.excludeCredentials).toEqual([{ id: firstId, type: 'public-key', transports: ['usb'] }]);
      const { response, credential } = second.register(options, rp.origin);
      expect(await factor.register(h, JSON.stringify(response), 'Laptop')).toMatchObject({ ok: true });

      const someoneElse = await registered();
      const signInOptions = (await factor.authenticationOptions(h))!;
      expect(signInOptions.allowCredentials!.map((c) => c.id).sort()).toEqual([firstId, credential.id].sort());
      expect(signInOptions.allowCredentials!.map((c) => c.id)).not.toContain(someoneElse.credential.id);
      expect(await factor.authenticate(h, JSON.stringify(second.assert(credential, signInOptions, rp.origin)))).toMatchObject({ ok: true });
    });

    test('an account without passkeys gets no sign-in options (the login offers the code)', async () => {
      const h = await holder();
      expect(await factor.authenticationOptions(h)).toBeUndefined();
      expect(await stores.kv.get(challengeKey(h, 'authenticate'))).toBeNull();
    });
  });

  describe('sign-in refusals: the reason named, the counter and last use untouched', () => {
    /** Runs the refusal, then checks the stored credential did not move. */
    const refusedWithout = async (run: (ctx: Awaited<ReturnType<typeof registered>>) => Promise<unknown>, reason: string) => {
      const ctx = await registered();
      const before = (await stored(ctx.credential.id))!;
      expect(await run(ctx)).toMatchObject({ ok: false, reason });
      expect(await stored(ctx.credential.id)).toEqual(before);
      return ctx;
    };

    test('a wrong challenge', async () => {
      await refusedWithout((c) => signIn(c.h, c.authenticator, c.credential, { challenge: randomBytes(32).toString('base64url') }), 'wrong_challenge');
    });

    test('no challenge at all (none asked, or expired)', async () => {
      await refusedWithout(async (c) => factor.authenticate(c.h, JSON.stringify(c.authenticator.assert(c.credential, { challenge: 'AAAA' }, rp.origin))), 'challenge_missing');
    });

    test('a replayed challenge: the same assertion twice passes once', async () => {
      const { h, authenticator, credential } = await registered();
      const options = (await factor.authenticationOptions(h))!;
      const assertion = JSON.stringify(authenticator.assert(credential, options, rp.origin));
      const [first, second] = await Promise.all([factor.authenticate(h, assertion), factor.authenticate(h, assertion)]);
      expect([first.ok, second.ok].sort()).toEqual([false, true]);
      expect([first, second].find((r) => !r.ok)).toMatchObject({ reason: 'challenge_missing' });
      expect(await factor.authenticate(h, assertion)).toMatchObject({ ok: false, reason: 'challenge_missing' });
      expect((await stored(credential.id))!.counter).toBe(2);
    });

    test('a challenge made for another flow, another purpose or another account does not count', async () => {
      const { h, authenticator, credential } = await registered();
      const options = (await factor.authenticationOptions(h))!;
      const assertion = JSON.stringify(authenticator.assert(credential, options, rp.origin));
      expect(await factor.authenticate({ ...h, flowId: 'another-flow' }, assertion)).toMatchObject({ ok: false, reason: 'challenge_missing' });
      // the registration challenge of the same flow is not a sign-in challenge
      const registration = await factor.registrationOptions(h, user);
      const withRegistrationChallenge = JSON.stringify(authenticator.assert(credential, { challenge: registration.challenge }, rp.origin));
      expect(await factor.authenticate(h, withRegistrationChallenge)).toMatchObject({ ok: false, reason: 'wrong_challenge' });
      expect((await stored(credential.id))!.counter).toBe(1);
    });

    test('a wrong origin (a look-alike site relaying the ceremony)', async () => {
      await refusedWithout((c) => signIn(c.h, c.authenticator, c.credential, { origin: 'https://login-zonnig.example' }), 'wrong_origin');
    });

    test('a ceremony inside another site’s frame', async () => {
      await refusedWithout((c) => signIn(c.h, c.authenticator, c.credential, { topOrigin: 'https://evil.example' }), 'wrong_origin');
    });

    test('a wrong RP ID (an assertion made for another site)', async () => {
      await refusedWithout((c) => signIn(c.h, c.authenticator, c.credential, { rpId: 'zonnig.example' }), 'wrong_rp_id');
    });

    test('a registration response offered as an assertion', async () => {
      await refusedWithout((c) => signIn(c.h, c.authenticator, c.credential, { type: 'webauthn.create' }), 'wrong_type');
    });

    test('a forged signature', async () => {
      await refusedWithout(async (c) => {
        const options = (await factor.authenticationOptions(c.h))!;
        const assertion = c.authenticator.assert(c.credential, options, rp.origin);
        const signature = Buffer.from(assertion.response.signature, 'base64url');
        signature[signature.length - 1] ^= 0x01;
        return factor.authenticate(c.h, JSON.stringify({ ...assertion, response: { ...assertion.response, signature: signature.toString('base64url') } }));
      }, 'invalid');
    });

    test('another account’s credential, even validly signed, answers as unknown and moves nothing', async () => {
      const anna = await registered();
      const bert = await registered();
      const before = (await stored(bert.credential.id))!;
      const options = (await factor.authenticationOptions(anna.h))!;
      const assertion = bert.authenticator.assert(bert.credential, options, rp.origin);
      expect(await factor.authenticate(anna.h, JSON.stringify(assertion))).toMatchObject({ ok: false, reason: 'unknown_credential' });
      expect(await stored(bert.credential.id)).toEqual(before);
    });

    test('a replayed assertion: a signed one with the counter already seen is a clone, reported with both counters', async () => {
      const { h, authenticator, credential, passkey } = await registered();
      expect(await signIn(h, authenticator, credential)).toMatchObject({ ok: true });
      const result = await signIn(h, authenticator, credential, { counter: 2 });
      expect(result).toMatchObject({ ok: false, reason: 'cloned', presentedCounter: 2, passkey: { id: passkey.id, counter: 2 } });
      expect((await stored(credential.id))!.counter).toBe(2);
    });

    test('a counter going back (a cloned authenticator) is refused and reported; the real one goes on', async () => {
      const { h, authenticator, credential } = await registered();
      for (let i = 0; i < 3; i += 1) expect(await signIn(h, authenticator, credential)).toMatchObject({ ok: true });
      const before = (await stored(credential.id))!;
      expect(before.counter).toBe(4);
      expect(await signIn(h, authenticator, credential, { counter: 2 })).toMatchObject({ ok: false, reason: 'cloned', presentedCounter: 2 });
      expect(await signIn(h, authenticator, credential, { counter: 0 })).toMatchObject({ ok: false, reason: 'cloned', presentedCounter: 0 });
      expect(await stored(credential.id)).toEqual(before);
      expect(await signIn(h, authenticator, credential)).toMatchObject({ ok: true, passkey: { counter: 5 } });
    });

    test.each([
      ['not JSON', '{"id": "abc"'],
      ['JSON of another shape', '{"hello":"world"}'],
      ['broken base64url', JSON.stringify({ id: 'AAAA', rawId: 'AAAA', type: 'public-key', response: { clientDataJSON: '!!!', authenticatorData: 'AAAA', signature: 'AAAA' } })],
      ['clientDataJSON that is not JSON', JSON.stringify({ id: 'AAAA', rawId: 'AAAA', type: 'public-key', response: { clientDataJSON: 'bm90IGpzb24', authenticatorData: 'AAAA', signature: 'AAAA' } })],
      ['huge', 'x'.repeat(MAX_RESPONSE_LENGTH + 1)],
      ['a number', 42],
    ])('malformed input (%s) is refused', async (_name, raw) => {
      const { h, credential } = await registered();
      const before = (await stored(credential.id))!;
      await factor.authenticationOptions(h);
      expect(await factor.authenticate(h, raw)).toMatchObject({ ok: false, reason: 'malformed' });
      expect(await stored(credential.id)).toEqual(before);
    });

    test('a passkey removed between the options and the assertion', async () => {
      const { h, authenticator, credential, passkey } = await registered();
      const options = (await factor.authenticationOptions(h))!;
      expect(await passkeys.remove(h.accountId, passkey.id)).toBe(true);
      expect(await factor.authenticate(h, JSON.stringify(authenticator.assert(credential, options, rp.origin)))).toMatchObject({ ok: false, reason: 'unknown_credential' });
    });
  });

  describe('registration refusals: the reason named, nothing stored', () => {
    const refusedRegistration = async (
      make: (h: PasskeyHolder, options: Awaited<ReturnType<PasskeyFactor['registrationOptions']>>) => { raw: unknown; name?: unknown },
      reason: string,
    ) => {
      const h = await holder();
      const options = await factor.registrationOptions(h, user);
      const { raw, name = 'YubiKey' } = make(h, options);
      expect(await factor.register(h, raw, name)).toMatchObject({ ok: false, reason });
      expect(await passkeys.countByAccount(h.accountId)).toBe(0);
    };
    const software = new SoftwareAuthenticator();

    test('a wrong challenge', async () => {
      await refusedRegistration((_h, o) => ({ raw: JSON.stringify(software.register(o, rp.origin, { challenge: 'AAAA' }).response) }), 'wrong_challenge');
    });
    test('a wrong origin', async () => {
      await refusedRegistration((_h, o) => ({ raw: JSON.stringify(software.register(o, rp.origin, { origin: 'https://evil.example' }).response) }), 'wrong_origin');
    });
    test('a wrong RP ID', async () => {
      await refusedRegistration((_h, o) => ({ raw: JSON.stringify(software.register(o, rp.origin, { rpId: 'evil.example' }).response) }), 'wrong_rp_id');
    });
    test('an assertion offered as a registration', async () => {
      await refusedRegistration((_h, o) => ({ raw: JSON.stringify(software.register(o, rp.origin, { type: 'webauthn.get' }).response) }), 'wrong_type');
    });
    test.each([
      ['an empty name', ''],
      ['a name over 100 characters', 'n'.repeat(101)],
      ['a name with a control character', 'Yubi\u0007Key'],
      ['a name that is not a string', ['YubiKey']],
    ])('%s', async (_title, name) => {
      await refusedRegistration((_h, o) => ({ raw: JSON.stringify(software.register(o, rp.origin).response), name }), 'bad_name');
    });
    test.each([
      ['not JSON', '{'],
      ['huge', `{"id":"${'A'.repeat(MAX_RESPONSE_LENGTH)}"}`],
      ['an attestation object that is not CBOR', JSON.stringify({ id: 'AAAA', rawId: 'AAAA', type: 'public-key', response: { clientDataJSON: 'AAAA', attestationObject: 'AAAA' } })],
    ])('malformed input (%s)', async (_title, raw) => {
      await refusedRegistration(() => ({ raw }), 'malformed');
    });

    test('a replayed registration passes once', async () => {
      const h = await holder();
      const options = await factor.registrationOptions(h, user);
      const raw = JSON.stringify(software.register(options, rp.origin).response);
      expect(await factor.register(h, raw, 'YubiKey')).toMatchObject({ ok: true });
      expect(await factor.register(h, raw, 'YubiKey')).toMatchObject({ ok: false, reason: 'challenge_missing' });
      expect(await passkeys.countByAccount(h.accountId)).toBe(1);
    });

    test('a credential already registered, to this account or another, is refused and left as it was', async () => {
      const { h, credential, passkey } = await registered();
      const again = await factor.registrationOptions(h, user);
      expect(await factor.register(h, JSON.stringify(software.register(again, rp.origin, { credential }).response), 'again')).toMatchObject({ ok: false, reason: 'already_registered' });

      const other = await holder();
      const otherOptions = await factor.registrationOptions(other, user);
      expect(await factor.register(other, JSON.stringify(software.register(otherOptions, rp.origin, { credential }).response), 'mine')).toMatchObject({ ok: false, reason: 'already_registered' });
      expect(await passkeys.countByAccount(other.accountId)).toBe(0);
      expect(await stored(credential.id)).toEqual(passkey);
    });

    test('an attestation whose id fields were swapped for another credential is refused', async () => {
      const { credential } = await registered();
      const other = await holder();
      const made = software.register(await factor.registrationOptions(other, user), rp.origin).response;
      expect(await factor.register(other, JSON.stringify({ ...made, id: credential.id, rawId: credential.id }), 'YubiKey')).toMatchObject({ ok: false, reason: 'invalid' });
      expect(await passkeys.countByAccount(other.accountId)).toBe(0);
    });

    test('at most MAX_PASSKEYS_PER_ACCOUNT passkeys', async () => {
      const h = await holder();
      for (let i = 0; i < MAX_PASSKEYS_PER_ACCOUNT; i += 1) {
        const options = await factor.registrationOptions(h, user);
        expect(await factor.register(h, JSON.stringify(software.register(options, rp.origin).response), `Sleutel ${i}`)).toMatchObject({ ok: true });
      }
      const options = await factor.registrationOptions(h, user);
      expect(await factor.register(h, JSON.stringify(software.register(options, rp.origin).response), 'one too many')).toMatchObject({ ok: false, reason: 'too_many' });
      expect(await passkeys.countByAccount(h.accountId)).toBe(MAX_PASSKEYS_PER_ACCOUNT);
    });
  });
});
