import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';
import { describe, expect, test } from '@jest/globals';

/**
 * The file Sleutel is to serve as its own static script for passkeys (issue 21; CSP `script-src
 * 'self'`, no inline script): @simplewebauthn/browser's standalone UMD build. Its package exports
 * only the ES modules (several files), so the bundle is found beside them. Run as a classic script
 * it needs no loader and leaves one global, SimpleWebAuthnBrowser.
 */
const require = createRequire(import.meta.url);
const packageDir = path.resolve(path.dirname(require.resolve('@simplewebauthn/browser')), '..');
const bundle = path.join(packageDir, 'dist/bundle/index.umd.min.js');

describe('the browser bundle of @simplewebauthn/browser', () => {
  test('is one self-contained classic script defining window.SimpleWebAuthnBrowser', () => {
    const source = fs.readFileSync(bundle, 'utf8');
    expect(source.startsWith('/* [@simplewebauthn/browser@14.')).toBe(true);
    expect(source.length).toBeLessThan(32 * 1024);
    const window: Record<string, unknown> = {};
    vm.runInNewContext(source, { self: window, globalThis: window, window });
    const api = window.SimpleWebAuthnBrowser as Record<string, unknown>;
    for (const name of ['startRegistration', 'startAuthentication', 'browserSupportsWebAuthn']) expect(typeof api[name]).toBe('function');
  });
});
