import { describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);
const binary = ['/usr/bin/docker-compose', '/usr/local/bin/docker-compose'].find((p) => fs.existsSync(p));
if (!binary) console.warn('compose test: docker-compose is not installed; docker-compose.yml is not checked');

/** Issue 6: the compose file is valid, and refuses to start without the secrets it needs. */
(binary ? describe : describe.skip)('docker-compose.yml', () => {
  const env = { PATH: process.env.PATH, ISSUER: 'https://id.zonnig.example', POSTGRES_PASSWORD: 'pw', ENCRYPTION_KEYS: 'k1:x', COOKIE_KEYS: 'y' };

  test('docker-compose config -q passes with the required settings', async () => {
    await expect(run(binary!, ['-f', 'docker-compose.yml', 'config', '-q'], { env })).resolves.toBeDefined();
  });

  test('the services, the migration before the app, a healthcheck on the image, a non-root user', async () => {
    const { stdout } = await run(binary!, ['-f', 'docker-compose.yml', 'config'], { env });
    for (const service of ['postgres:', 'redis:', 'mail:', 'migrate:', 'sleutel:']) expect(stdout).toContain(service);
    expect(stdout).toMatch(/service_completed_successfully/);
    const dockerfile = fs.readFileSync('Dockerfile', 'utf8');
    expect(dockerfile).toMatch(/^FROM node:22/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\/readyz/m);
  });

  test('docker-compose.sentinel.yml: Redis as master + replica + three sentinels, Sleutel configured with REDIS_SENTINELS', async () => {
    const { stdout } = await run(binary!, ['-f', 'docker-compose.yml', '-f', 'docker-compose.sentinel.yml', 'config'], { env });
    for (const service of ['redis-replica:', 'redis-sentinel-1:', 'redis-sentinel-2:', 'redis-sentinel-3:']) expect(stdout).toContain(service);
    expect(stdout).toMatch(/REDIS_SENTINELS: redis-sentinel-1:26379,redis-sentinel-2:26379,redis-sentinel-3:26379/);
    expect(stdout).toMatch(/REDIS_SENTINEL_MASTER: sleutel/);
    expect(stdout).toMatch(/REDIS_URL: ''/); // empty counts as unset: one topology only
  });

  test('a missing secret stops docker-compose with a message naming it', async () => {
    const { ENCRYPTION_KEYS: _missing, ...without } = env;
    await expect(run(binary!, ['-f', 'docker-compose.yml', 'config', '-q'], { env: without })).rejects.toMatchObject({ stderr: expect.stringContaining('ENCRYPTION_KEYS') });
  });
});
