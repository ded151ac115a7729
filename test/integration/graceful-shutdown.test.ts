import { afterAll, describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TEST_KEYS } from '../helpers/server.js';
import { freePort } from '../helpers/ports.js';

/**
 * docs/architecture.md § Contracts (operations): graceful shutdown on SIGTERM. Under steady load,
 * like a load balancer that stops sending once /readyz says 503: no request fails, and the process
 * exits 0.
 */
describe('SIGTERM under steady load', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sleutel-shutdown-'));
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  test('readiness turns 503, requests in flight and during the drain succeed, the process exits 0', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { PATH: process.env.PATH, PORT: String(port), ISSUER: base, DATA_DIR: dataDir, SHUTDOWN_DRAIN_SECONDS: '2', LOG_LEVEL: 'warn', ...TEST_KEYS },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    for (let i = 0; i < 200 && !(await fetch(`${base}/readyz`).then((r) => r.ok, () => false)); i += 1) await new Promise((r) => setTimeout(r, 100));

    let balancerSendsTraffic = true;
    const results = { ok: 0, failed: [] as string[], afterSigterm: 0 };
    let sigtermSent = false;
    // the load balancer's health check: stop routing here once readiness goes
    const healthCheck = (async () => {
      while (balancerSendsTraffic) {
        const ready = await fetch(`${base}/readyz`).then((r) => r.status, () => 0);
        if (ready !== 200) balancerSendsTraffic = false;
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    // steady load: 8 clients, each request after the previous, bounded in count
    const clients = Array.from({ length: 8 }, async (_, n) => {
      for (let i = 0; i < 2000 && balancerSendsTraffic; i += 1) {
        const target = n % 2 ? '/.well-known/openid-configuration' : '/jwks';
        try {
          const response = await fetch(`${base}${target}`);
          await response.arrayBuffer();
          if (response.ok) {
            results.ok += 1;
            if (sigtermSent) results.afterSigterm += 1;
          } else results.failed.push(`${target} ${response.status}`);
        } catch (error) {
          results.failed.push(`${target} ${(error as Error).message}`);
        }
      }
    });
    await new Promise((r) => setTimeout(r, 1500));
    child.kill('SIGTERM');
    sigtermSent = true;
    await Promise.all([...clients, healthCheck]);

    expect(await exited).toBe(0);
    expect(results.failed).toEqual([]);
    expect(results.ok).toBeGreaterThan(50);
    expect(results.afterSigterm).toBeGreaterThan(0); // served while draining
  });
});
