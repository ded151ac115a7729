import { describe, expect, test } from '@jest/globals';
import { Browser } from '../helpers/browser.js';
import { useScenario } from '../helpers/scenario.js';

/**
 * docs/rules.md § Security bar and issue 5: a known and an unknown address get the same answer
 * "in about the same time", at the login and at "Wachtwoord vergeten". Not a speed target: the two
 * medians are compared with each other, with a tolerance wide enough for a busy two-core machine,
 * so the test catches only a systematic difference (such as an argon2 verify on one path and not
 * the other).
 */
describe('same answer, same time, for known and unknown addresses (embedded)', () => {
  const s = useScenario('embedded');
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

  async function timed(fn: () => Promise<unknown>): Promise<number> {
    const started = process.hrtime.bigint();
    await fn();
    return Number(process.hrtime.bigint() - started) / 1e6;
  }

  const within = (a: number, b: number) => Math.abs(a - b) <= Math.max(15, 0.5 * Math.max(a, b));

  test('the password step', async () => {
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 12; i += 1) {
      for (const [email, into] of [[s.seeded.portal.email, known], [`niemand-${i}@zonnig.example`, unknown]] as const) {
        const browser = new Browser();
        const login = await browser.follow((await s.portalRp.authorization()).url, s.portalRp.isCallback);
        into.push(await timed(() => browser.submit(login, { email, password: `wrong-${i}` })));
      }
      // keep the lockouts out of it: the point is the wrong-password path itself
      await s.server.sleutel.flows.lockout.clear(s.seeded.portal.id);
      for (const ip of ['127.0.0.1', '::ffff:127.0.0.1']) await s.server.sleutel.flows.ipLockout.clear(ip);
    }
    const [k, u] = [median(known), median(unknown)];
    expect({ known: k, unknown: u, within: within(k, u) }).toMatchObject({ within: true });
  });

  test('"Wachtwoord vergeten"', async () => {
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 12; i += 1) {
      for (const [email, into] of [[s.seeded.staff.email, known], [`niemand-${i}@zonnig.example`, unknown]] as const) {
        const browser = new Browser();
        const login = await browser.follow((await s.staffRp.authorization()).url, s.staffRp.isCallback);
        const forgot = await browser.follow(new URL(login.html().querySelector('a[href$="/forgot"]')!.getAttribute('href')!, s.server.url).href);
        into.push(await timed(() => browser.submit(forgot, { email })));
      }
    }
    const [k, u] = [median(known), median(unknown)];
    expect({ known: k, unknown: u, within: within(k, u) }).toMatchObject({ within: true });
  });
});
