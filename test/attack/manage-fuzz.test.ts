import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { queryRows } from '../../src/stores/database.js';
import { createAccount, createServiceClient, serviceToken } from '../helpers/manage.js';
import { useScenario } from '../helpers/scenario.js';
import type { SeededAccount } from '../helpers/seed.js';
import { storeModes } from '../helpers/stores.js';
import { check, deeplyNested, hostileJson, hostileString, percentEncode, PROPERTY_TIMEOUT, runs, seed } from './hostile.js';

/**
 * Property-based fuzzing of the management API (issue 20, DESIGN §6): every path parameter, query
 * parameter and body field, with a service client's token (all rights in its tenant, so a refusal
 * is the input's doing). Never a 5xx; a refused call leaves the account, the policy and the number
 * of accounts as they were.
 */

const counter = { inputs: 0 };

/** A body field: mostly a well-typed value so the other fields are reached, else anything. */
const field = <T>(good: fc.Arbitrary<T>) => fc.option(fc.oneof({ weight: 2, arbitrary: good as fc.Arbitrary<unknown> }, { weight: 2, arbitrary: hostileJson }, { weight: 1, arbitrary: deeplyNested }), { nil: undefined, freq: 4 });
const goodEmail = fc.oneof(fc.emailAddress(), fc.constantFrom('Anna@Example.com', 'anna@ｅxample.com', 'ilse@İstanbul.tr', 'İlse@example.com', 'x@straße.de'));
const pools = fc.constantFrom('staff', 'portal');
const roles = fc.array(fc.constantFrom('key_user', 'coop_admin'), { maxLength: 2 });
const hours = fc.integer({ min: -5, max: 800 });

/** Strips the undefined fields and adds a hostile key now and then. */
const bodyOf = (shape: Record<string, fc.Arbitrary<unknown>>) =>
  fc.tuple(fc.record(shape), fc.option(fc.tuple(fc.constantFrom('__proto__', 'constructor', 'prototype', 'extra'), hostileJson), { freq: 5 })).map(([fields, extra]) => {
    const body = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
    return extra ? `{${[...Object.entries(body).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v) ?? 'null'}`), `${JSON.stringify(extra[0])}:${JSON.stringify(extra[1]) ?? 'null'}`].join(',')}}` : JSON.stringify(body);
  });

/** A raw body that is not the JSON asked for: broken UTF-8, truncated, not an object. */
const rawBody = fc.oneof(
  fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 40 }).map((bytes) => Buffer.concat([Buffer.from('{"name":"'), Buffer.from(bytes), Buffer.from('"}')])),
  fc.constantFrom('', '{', 'null', '"x"', '[]', '1', 'true', '{"name":"\\ud800"}', '{"name":"a\\u0000b"}', '{"__proto__":{"admin":true}}', `${'['.repeat(40_000)}`).map((t) => Buffer.from(t)),
);

describe.each(storeModes)('fuzzing the management API (%s)', (mode) => {
  const s = useScenario(mode);
  let token: string;
  let staff: SeededAccount;
  let portal: SeededAccount;

  /** The two accounts' rows, the number of accounts and the policy, in one round trip (taken around every call). */
  const state = async () => {
    const [row] = await queryRows(
      s.server.stores.db,
      `select (select json_agg(a order by a.id) from accounts a where a.id in (?, ?)) as targets,
              (select count(*) from accounts) as accounts,
              (select policy from tenants where id = ?) as policy`,
      [staff.id, portal.id, s.seeded.tenantId],
    );
    return row;
  };

  beforeAll(async () => {
    token = await serviceToken(s.server, await createServiceClient(s.server, s.seeded.tenantId));
    staff = await createAccount(s.server, s.seeded.tenantId, 'staff', ['key_user'], { hashed: false });
    portal = await createAccount(s.server, s.seeded.tenantId, 'portal', [], { hashed: false });
  });

  afterAll(() => {
    // eslint-disable-next-line no-console
    console.log(`management API (${mode}): ${counter.inputs} generated inputs, seed ${seed}`);
  });

  async function send(method: string, path: string, body?: string | Buffer, contentType = 'application/json') {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = contentType;
    const response = await fetch(`${s.server.url}/manage/v1${path}`, { method, headers, body });
    const text = await response.text();
    return { status: response.status, text };
  }

  /** Sends, and checks: no 5xx, a JSON error on refusal, and no change of state on refusal. */
  async function attack(method: string, path: string, body?: string | Buffer, contentType?: string) {
    const before = await state();
    const answer = await send(method, path, body, contentType);
    if (answer.status >= 500) throw new Error(`${answer.status} for ${method} ${path.slice(0, 200)} ${String(body ?? '').slice(0, 300)}: ${answer.text.slice(0, 300)}`);
    if (answer.status >= 400) {
      expect(JSON.parse(answer.text)).toEqual({ error: expect.any(String), error_description: expect.any(String) });
      expect(await state()).toEqual(before);
    }
    return answer;
  }

  const slug = () => fc.oneof({ weight: 3, arbitrary: fc.constant(s.seeded.slug) }, { weight: 1, arbitrary: hostileString.filter((v) => v.length < 2000) });
  const id = () => fc.oneof({ weight: 3, arbitrary: fc.constantFrom(staff.id, portal.id) }, { weight: 1, arbitrary: fc.oneof(hostileString.filter((v) => v.length < 2000), fc.uuid()) });
  const segment = (value: string) => percentEncode(value).replace(/\./g, '%2E');

  test('path parameters of every route', async () => {
    const routes: [string, (t: string, i: string) => string, string?][] = [
      ['GET', (t) => `/tenants/${t}/accounts`],
      ['GET', (t, i) => `/tenants/${t}/accounts/${i}`],
      ['PATCH', (t, i) => `/tenants/${t}/accounts/${i}`, '{"name":"Fuzz"}'],
      ['PUT', (t, i) => `/tenants/${t}/accounts/${i}/two-factor/requirement`, '{"required":false}'],
      ['DELETE', (t, i) => `/tenants/${t}/accounts/${i}/two-factor`],
      ['POST', (t, i) => `/tenants/${t}/accounts/${i}/unblock`],
      ['GET', (t) => `/tenants/${t}/policy`],
      ['GET', (t) => `/tenants/${t}/two-factor/stats`],
      ['GET', (t) => `/tenants/${t}/audit-events`],
    ];
    await check(
      fc.asyncProperty(fc.record({ route: fc.constantFrom(...routes), tenant: slug(), id: id() }), async ({ route: [method, path, body], tenant, id }) => {
        await attack(method, path(segment(tenant), segment(id)), body);
      }),
      runs(900),
      counter,
    );
  }, PROPERTY_TIMEOUT);

  test('query parameters: pool, email, type, since, account, preview', async () => {
    const value = fc.oneof(hostileString.filter((v) => v.length < 4000), fc.constantFrom('staff', 'portal', 'login.ok', '2026-01-01T00:00:00Z', '0000-01-01T00:00:00Z', '9999-12-31T23:59:59+14:00', 'require_two_factor_for_all_staff'), goodEmail);
    const query = fc.array(fc.tuple(fc.constantFrom('pool', 'email', 'type', 'since', 'account', 'preview', '__proto__', 'constructor', 'email[]', 'pool[x]'), value), { maxLength: 4 });
    await check(
      fc.asyncProperty(fc.record({ path: fc.constantFrom('/accounts', '/audit-events', '/policy'), query }), async ({ path, query }) => {
        const qs = query.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&');
        await attack('GET', `/tenants/${s.seeded.slug}${path}?${qs}`);
      }),
      runs(1000),
      counter,
    );
  }, PROPERTY_TIMEOUT);

  test('create an account: every body field', async () => {
    const body = bodyOf({
      pool: field(pools),
      email: field(goodEmail),
      name: field(fc.string({ maxLength: 30 })),
      roles: field(roles),
      // a password is hashed with argon2 when everything else is valid: kept rare to keep the run short
      password: fc.option(fc.oneof(hostileJson, fc.constant('correct horse battery staple 9')), { nil: undefined, freq: 2 }),
      invite: field(fc.boolean()),
    });
    await check(fc.asyncProperty(body, async (b) => void (await attack('POST', `/tenants/${s.seeded.slug}/accounts`, b))), runs(900), counter);
  }, PROPERTY_TIMEOUT);

  test('update an account: every body field', async () => {
    const body = bodyOf({ name: field(fc.string({ maxLength: 30 })), email: field(goodEmail), roles: field(roles), disabled: field(fc.boolean()) });
    await check(
      fc.asyncProperty(fc.record({ body, who: fc.constantFrom('staff', 'portal') }), async ({ body: b, who }) => {
        await attack('PATCH', `/tenants/${s.seeded.slug}/accounts/${who === 'staff' ? staff.id : portal.id}`, b);
      }),
      runs(1000),
      counter,
    );
  }, PROPERTY_TIMEOUT);

  test('2FA requirement and tenant policy: every body field', async () => {
    const requirement = bodyOf({ required: field(fc.boolean()) });
    const perPool = <T>(v: fc.Arbitrary<T>) => field(fc.record({ staff: field(v), portal: field(v) }));
    const policy = bodyOf({
      require_two_factor_for_all_staff: field(fc.boolean()),
      remember_two_factor_hours: perPool(hours),
      forget_two_factor_on_logout: field(fc.boolean()),
      totp_issuer: perPool(fc.string({ maxLength: 110 })),
      min_password_length: perPool(fc.integer({ min: 0, max: 80 })),
    });
    await check(
      fc.asyncProperty(fc.oneof(requirement.map((b) => ['PUT', `/accounts/${staff.id}/two-factor/requirement`, b] as const), policy.map((b) => ['PUT', '/policy', b] as const)), async ([method, path, b]) => {
        await attack(method, `/tenants/${s.seeded.slug}${path}`, b);
      }),
      runs(1000),
      counter,
    );
  }, PROPERTY_TIMEOUT);

  test('raw bodies: broken UTF-8, not JSON, nested too deep, wrong content type', async () => {
    await check(
      fc.asyncProperty(fc.record({ body: rawBody, type: fc.constantFrom('application/json', 'application/json; charset=latin1', 'text/plain', 'application/x-www-form-urlencoded'), path: fc.constantFrom(`/accounts/${portal.id}`, '/policy', '/accounts') }), async ({ body, type, path }) => {
        const method = path === '/policy' ? 'PUT' : path === '/accounts' ? 'POST' : 'PATCH';
        const answer = await attack(method, `/tenants/${s.seeded.slug}${path}`, body, type);
        // broken UTF-8 is refused; Latin-1, when declared, is read as Latin-1 (every byte is a character)
        if (type === 'application/json' && !isUtf8(body)) expect(answer.status).toBe(400);
      }),
      runs(500),
      counter,
    );
  }, PROPERTY_TIMEOUT);
});
