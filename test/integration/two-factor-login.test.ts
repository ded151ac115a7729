import { describe, expect, test } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import { Browser, messageOf } from '../helpers/browser.js';
import { TenantStore } from '../../src/stores/tenants.js';
import { useScenario } from '../helpers/scenario.js';
import { storeModes } from '../helpers/stores.js';
import { totp } from '../helpers/totp.js';
import { enableOnAccountPage, passwordStep } from '../helpers/two-factor.js';

describe.each(storeModes)('two-factor authentication from enrollment to login (%s)', (mode) => {
  const s = useScenario(mode);

  test('enable on the account page, then sign in with a code; the browser is remembered, another is not', async () => {
    const { seeded, portalRp, server } = s;
    const member = seeded.portal;
    const first = new Browser();
    const { secret, recoveryCode, page } = await enableOnAccountPage(first, server.url, portalRp, member);
    expect(secret).toMatch(/^[A-Z2-7]{32}$/); // 160 bits
    expect(recoveryCode).toMatch(/^[A-Z2-7]{5}(-[A-Z2-7]{5}){3}$/);
    expect(page.body).toContain('Sla deze code op een veilige plek op');

    // a notification mail went to the outbox (no SMTP_URL in tests)
    const outbox = path.join(server.config.dataDir, 'outbox');
    expect(fs.readdirSync(outbox).some((f) => f.endsWith('two_factor_enabled.eml'))).toBe(true);

    // a fresh browser: password, then the code
    const phoneless = new Browser();
    const { request, next } = await passwordStep(phoneless, portalRp, member);
    expect(next.html().querySelector('input[name=code]')).not.toBeNull();
    const callback = await phoneless.submit(next, { code: totp(secret) }, portalRp.isCallback);
    expect(portalRp.isCallback(callback.url)).toBe(true);
    const tokens = await portalRp.exchange(callback.url, request);
    expect(tokens.claims()).toMatchObject({ acr: 'urn:sleutel:acr:2fa', amr: ['pwd', 'otp'] });

    // the same browser signs in again (prompt=login): password only, still acr 2fa
    const again = await passwordStep(phoneless, portalRp, member, { prompt: 'login' });
    expect(portalRp.isCallback(again.next.url)).toBe(true);
    const remembered = await portalRp.exchange(again.next.url, again.request);
    expect(remembered.claims()).toMatchObject({ acr: 'urn:sleutel:acr:2fa', amr: ['pwd'] });

    // another browser is asked for the code
    const other = await passwordStep(new Browser(), portalRp, member);
    expect(other.next.html().querySelector('input[name=code]')).not.toBeNull();
  });
});

describe.each(storeModes)('the policy that decides a login is read as stored now (%s)', (mode) => {
  const s = useScenario(mode);

  test('2FA required for all staff by another instance: the very next password step goes into enrollment, not skippable', async () => {
    const { seeded, staffRp, server } = s;
    const browser = new Browser();
    const request = await staffRp.authorization();
    // the login screen is shown (the cooperative is now kept in this instance's memory for the screens)
    const login = await browser.follow(request.url, staffRp.isCallback);
    expect(login.html().querySelector('input[name=password]')).not.toBeNull();

    // another instance changes the policy: it writes the database, this instance's memory is not told
    const elsewhere = new TenantStore(server.sleutel.stores.db);
    const tenant = (await elsewhere.findById(seeded.tenantId))!;
    await elsewhere.updatePolicy(tenant.id, { ...tenant.policy, require_two_factor_for_all_staff: true });

    const next = await browser.submit(login, { email: seeded.staff.email, password: seeded.staff.password }, staffRp.isCallback);
    expect(staffRp.isCallback(next.url)).toBe(false);
    expect(next.html().querySelector('input[name=code]')).not.toBeNull();
    expect(next.body).not.toContain('/enroll/skip');
  });
});
