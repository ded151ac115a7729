import { describe, expect, test } from '@jest/globals';
import { Browser, messageOf } from '../helpers/browser.js';
import { useScenario } from '../helpers/scenario.js';
import { credentials } from '../helpers/seed.js';
import { startServer } from '../helpers/server.js';
import { storeModes } from '../helpers/stores.js';
import { hash } from '@node-rs/argon2';

/**
 * docs/rules.md § Security bar: progressive lockout per account and per IP, shared by instances;
 * rehash of weaker hashes.
 */
describe.each(storeModes)('password lockout (%s)', (mode) => {
  const s = useScenario(mode);
  const generic = 'Het e-mailadres of het wachtwoord is onjuist.';

  const attempt = async (baseUrl: string, email: string, password: string) => {
    const browser = new Browser();
    const request = await s.staffRp.authorization();
    const login = await browser.follow(request.url.replace(s.server.url, baseUrl), s.staffRp.isCallback);
    return browser.submit(login, { email, password }, s.staffRp.isCallback);
  };

  const resetCounters = async (accountId: string) => {
    await s.server.sleutel.flows.lockout.clear(accountId);
    for (const ip of ['127.0.0.1', '::ffff:127.0.0.1']) await s.server.sleutel.flows.ipLockout.clear(ip);
  };

  test('5 wrong passwords lock the account for 15 minutes with the same generic answer; the right password is refused; unblock lifts it', async () => {
    const { staff } = s.seeded;
    await resetCounters(staff.id);
    // in postgres+redis mode half the attempts go to a second instance on the same stores
    const second = mode === 'postgres+redis' ? await startServer(mode, { stores: s.server.stores }) : undefined;
    try {
      for (let i = 0; i < 5; i += 1) {
        const page = await attempt(i % 2 && second ? second.url : s.server.url, staff.email, `wrong-${i}`);
        expect(page.status).toBe(401);
        expect(messageOf(page)).toBe(generic);
      }
    } finally {
      await second?.close();
    }
    expect(await s.server.sleutel.flows.lockout.lockedFor(staff.id)).toBeGreaterThan(890);
    const right = await attempt(s.server.url, staff.email, staff.password);
    expect(right.status).toBe(401);
    expect(messageOf(right)).toBe(generic); // no hint that the account exists or is locked

    const outbox = (await import('node:fs')).readdirSync(`${s.server.config.dataDir}/outbox`);
    expect(outbox.some((f) => f.endsWith('account_locked.eml'))).toBe(true);
    const events = await s.server.sleutel.stores.audit.list({ accountId: staff.id, type: 'account.locked' });
    expect(events).toHaveLength(1);

    await s.server.sleutel.flows.lockout.clear(staff.id); // what POST …/unblock does
    const after = await attempt(s.server.url, staff.email, staff.password);
    expect(s.staffRp.isCallback(after.url)).toBe(true);
  });

  test('the 10th failure locks for an hour', async () => {
    const { staff } = s.seeded;
    await resetCounters(staff.id);
    const lockout = s.server.sleutel.flows.lockout;
    for (let i = 0; i < 9; i += 1) await lockout.registerFailure(staff.id);
    // attempts while locked do not count; the 10th failure comes once the 15-minute lock has run out
    await s.server.stores.kv.delete(`locked:account:{${staff.id}}`); // the lock's key, hash tag included (src/stores/lockouts.ts)
    const page = await attempt(s.server.url, staff.email, 'wrong');
    expect(page.status).toBe(401);
    expect(await lockout.lockedFor(staff.id)).toBeGreaterThan(3500);
    await resetCounters(staff.id);
  });

  test('an IP address is locked after 20 failures, whatever the addresses tried', async () => {
    const { staff } = s.seeded;
    await resetCounters(staff.id);
    for (let i = 0; i < 20; i += 1) await attempt(s.server.url, `onbekend-${i}@zonnig.example`, 'wrong');
    const right = await attempt(s.server.url, staff.email, staff.password);
    expect(right.status).toBe(401);
    await resetCounters(staff.id);
    expect(s.staffRp.isCallback((await attempt(s.server.url, staff.email, staff.password)).url)).toBe(true);
  });

  test('a weaker argon2 hash is replaced at the next successful login', async () => {
    const { portal } = s.seeded;
    const weak = await hash(portal.password, { algorithm: 2, memoryCost: 4096, timeCost: 1, parallelism: 1 });
    await s.server.sleutel.stores.db('accounts').where({ id: portal.id }).update({ password_hash: weak });
    await s.portalRp.login(new Browser(), credentials(portal));
    const row = await s.server.sleutel.stores.db('accounts').where({ id: portal.id }).first();
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });
});
