import { beforeAll, describe, expect, test } from '@jest/globals';
import { apiFor, createAccount, createServiceClient, serviceToken } from '../helpers/manage.js';
import { useScenario } from '../helpers/scenario.js';
import { storeModes } from '../helpers/stores.js';

/**
 * Issue 20: a 64 kB body nested ~30 000 deep once overflowed the stack of the NUL/Unicode check
 * and answered 500. Nesting over 32 levels is now a 400 that says so; the account is unchanged.
 */
describe.each(storeModes)('deeply nested JSON on /manage/v1 (%s)', (mode) => {
  const s = useScenario(mode);
  let api: ReturnType<typeof apiFor>;
  let token: string;
  let target: { id: string; email: string };

  beforeAll(async () => {
    token = await serviceToken(s.server, await createServiceClient(s.server, s.seeded.tenantId));
    api = apiFor(s.server, token);
    target = await createAccount(s.server, s.seeded.tenantId, 'portal', [], { hashed: false });
  });

  const depth = 30_000;
  const cases: [string, string, string][] = [
    ['an array nested 30 000 deep', '['.repeat(depth) + ']'.repeat(depth), `${Array(32).fill('0').join('.')}: nested deeper than 32 levels`],
    ['a field holding an array nested 30 000 deep', `{"name":${'['.repeat(depth)}${']'.repeat(depth)}}`, 'name.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0: nested deeper than 32 levels'],
    ['objects nested 10 000 deep', `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`, `${Array(32).fill('a').join('.')}: nested deeper than 32 levels`],
  ];

  test.each(cases)('%s is a 400 with the reason', async (_name, body, description) => {
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(64 * 1024);
    const answer = await api('PATCH', `/tenants/${s.seeded.slug}/accounts/${target.id}`, body);
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({ error: 'invalid_request', error_description: description });
    const after = await s.server.sleutel.stores.accounts.findById(target.id);
    expect(after?.email).toBe(target.email);
    expect(after?.name).toBe('portal portal');
  });

  test('32 levels are still read (and refused by the schema, not the depth limit)', async () => {
    const body = `{"name":${'['.repeat(31)}${']'.repeat(31)}}`;
    const answer = await api('PATCH', `/tenants/${s.seeded.slug}/accounts/${target.id}`, body);
    expect(answer.status).toBe(400);
    expect(answer.body.error_description).toMatch(/^name: /);
    expect(answer.body.error_description).not.toMatch(/nested deeper/);
  });

  test('broken UTF-8 in a JSON body is refused, not stored as U+FFFD', async () => {
    const response = await fetch(`${s.server.url}/manage/v1/tenants/${s.seeded.slug}/accounts/${target.id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: Buffer.concat([Buffer.from('{"name":"Ann'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'invalid_request', error_description: 'name: contains a NUL byte or broken Unicode' });
    expect((await s.server.sleutel.stores.accounts.findById(target.id))?.name).toBe('portal portal');
  });

  test('a NUL byte in a key is refused too', async () => {
    const answer = await api('PATCH', `/tenants/${s.seeded.slug}/accounts/${target.id}`, '{"na\\u0000me":"x"}');
    expect(answer.status).toBe(400);
    expect(answer.body.error_description).toBe('body: a key contains a NUL byte or broken Unicode');
  });
});
