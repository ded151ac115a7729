import { describe, expect, test } from '@jest/globals';
import { mayPass } from '../../src/oidc/backchannel.js';

/** Which failed back-channel logouts are retried (src/oidc/backchannel.ts); the integration test sends real ones. */
describe('back-channel logout: which failures may pass', () => {
  const answered = (status: number) => Object.assign(new Error(`expected 200 OK, got: ${status}`), { response: { status } });

  test('unreachable, too slow or 5xx: retried', () => {
    expect(mayPass(new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) }))).toBe(true);
    expect(mayPass(new DOMException('The operation was aborted due to timeout', 'TimeoutError'))).toBe(true);
    for (const status of [500, 502, 503, 504]) expect(mayPass(answered(status))).toBe(true);
  });

  test('a refusal or a redirect: not retried', () => {
    for (const status of [301, 302, 400, 401, 404]) expect(mayPass(answered(status))).toBe(false);
    expect(mayPass(new Error('something else'))).toBe(false);
  });
});
