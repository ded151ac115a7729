import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * Sleutel serves @simplewebauthn/browser's standalone build itself (issue 21), so the passkey
 * screens can load it under CSP `script-src 'self'` without inline script or another host.
 */
const require = createRequire(import.meta.url);
const bundle = fs.readFileSync(path.resolve(path.dirname(require.resolve('@simplewebauthn/browser')), '../dist/bundle/index.umd.min.js'));

/** What a browser sends to revalidate (fetch would add `cache-control: no-cache` to a bare If-None-Match). */
const revalidate = (etag: string) => ({ 'if-none-match': etag, 'cache-control': 'max-age=0' });

describe('GET /assets/webauthn.js', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer('embedded');
  });
  afterAll(async () => {
    await server.close();
  });

  test('answers the bundle as JavaScript, cacheable, revalidated by its ETag', async () => {
    const res = await fetch(`${server.url}/assets/webauthn.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/javascript/);
    expect(res.headers.get('cache-control')).toBe('public, max-age=3600');
    expect(Buffer.from(await res.arrayBuffer()).equals(bundle)).toBe(true);
    const etag = res.headers.get('etag')!;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{16}"$/);

    const again = await fetch(`${server.url}/assets/webauthn.js`, { headers: revalidate(etag) });
    expect(again.status).toBe(304);
  });

  test('the stylesheet beside it revalidates the same way (the 304 needed the same fix)', async () => {
    const css = await fetch(`${server.url}/assets/sleutel.css`);
    expect(css.status).toBe(200);
    const again = await fetch(`${server.url}/assets/sleutel.css`, { headers: revalidate(css.headers.get('etag')!) });
    expect(again.status).toBe(304);
  });

  test('the screens’ policy lets a page load it: script-src self, no inline script', async () => {
    const res = await fetch(`${server.url}/assets/webauthn.js`);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).not.toMatch(/unsafe-inline/);
  });
});
