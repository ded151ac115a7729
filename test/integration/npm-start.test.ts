import { afterAll, describe, expect, test } from '@jest/globals';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Browser } from '../helpers/browser.js';
import { freePort } from '../helpers/ports.js';

const run = promisify(execFile);

/** `npm start` as a newcomer runs it: no configuration at all but a data directory and a port. */
async function npmStart(dataDir: string, port: number) {
  const output: string[] = [];
  const child = spawn('npm', ['start', '--silent'], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: dataDir, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so the server under npm is stopped with it
  });
  child.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
  for (let i = 0; i < 200; i += 1) {
    if (/password \(both\):\s+(\S+)/.test(output.join(''))) break;
    if (child.exitCode !== null) throw new Error(`npm start exited:\n${output.join('')}`);
    await new Promise((r) => setTimeout(r, 150));
  }
  const password = /password \(both\):\s+(\S+)/.exec(output.join(''))?.[1];
  if (!password) throw new Error(`no demo instructions printed:\n${output.join('')}`);
  return { child, output, password };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.on('exit', resolve));
  process.kill(-child.pid!, 'SIGTERM');
  await exited;
}

describe('npm start with no configuration (embedded stores)', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sleutel-start-'));
  let running: ChildProcess | undefined;
  afterAll(async () => {
    if (running) await stop(running);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const signInThroughDemo = async (base: string, email: string, password: string) => {
    const browser = new Browser();
    const loginPage = await browser.follow(`${base}/demo/login/staff`);
    expect(loginPage.html().querySelector('h1')?.text).toBe('Inloggen');
    const done = await browser.submit(loginPage, { email, password });
    return done;
  };

  test('seeds a demo on first start, prints how to sign in, and keeps its data across a restart', async () => {
    const port = await freePort();
    const base = `http://localhost:${port}`;
    const first = await npmStart(dataDir, port);
    running = first.child;
    const text = first.output.join('');
    expect(text).toContain(`Open ${base}/demo`);
    expect(text).toContain('beheerder@demo.example');
    expect(text).toContain('ENCRYPTION_KEYS / COOKIE_KEYS not set'); // the loud warning

    const page = await signInThroughDemo(base, 'beheerder@demo.example', first.password);
    expect(page.status).toBe(200);
    expect(page.body).toContain('urn:sleutel:acr:pwd');
    expect(page.body).toContain('beheerder@demo.example');

    // while the server holds DATA_DIR, the CLI refuses to open it
    const cli = await run(process.execPath, ['bin/sleutel.js', 'tenant', 'add', 'x', '--name', 'X'], { env: { PATH: process.env.PATH, DATA_DIR: dataDir } }).catch((e: { code: number; stderr: string }) => e);
    expect((cli as { code: number }).code).toBe(1);
    expect((cli as { stderr: string }).stderr).toContain('is in use by a running Sleutel');

    await stop(first.child);
    // the server gives DATA_DIR back once it has drained (npm itself may exit first)
    for (let i = 0; i < 100 && fs.existsSync(path.join(dataDir, 'sleutel.pid')); i += 1) await new Promise((r) => setTimeout(r, 100));
    expect(fs.existsSync(path.join(dataDir, 'sleutel.pid'))).toBe(false);

    const second = await npmStart(dataDir, port);
    running = second.child;
    expect(second.password).toBe(first.password);
    const again = await signInThroughDemo(base, 'beheerder@demo.example', first.password);
    expect(again.body).toContain('urn:sleutel:acr:pwd');
  });
});
