import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/environment.js';
import { openStores, type Stores } from '../../src/stores/open.js';
import { freePort } from './ports.js';
import { TEST_KEYS } from './server.js';
import { createDatabase } from './stores.js';

/**
 * N Sleutel processes (src/main.ts, configured by environment as an operator would) on one fresh
 * Postgres database and the Redis the given variables name, behind a round-robin proxy without
 * sticky routing: every request goes to the next instance. Needs DATABASE_URL.
 */
export interface SleutelInstances {
  /** the proxy's address: ISSUER of every instance */
  issuer: string;
  /** the test's own stores on the same database and Redis, to seed tenants */
  stores: Stores;
  /** for each request the proxy forwarded, the index of the instance that served it */
  served: number[];
  /** what each process wrote to stdout and stderr */
  outputs: string[][];
  close(): Promise<void>;
}

export async function startInstances(count: number, redisEnv: Record<string, string>): Promise<SleutelInstances> {
  const database = await createDatabase();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sleutel-instances-'));
  const children: ChildProcess[] = [];
  const outputs: string[][] = [];
  const served: number[] = [];
  let stores: Stores | undefined;
  let proxy: http.Server | undefined;

  const close = async () => {
    await Promise.all(
      children.map((child) => {
        if (child.exitCode !== null || child.signalCode !== null) return undefined;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        return exited;
      }),
    );
    if (proxy) await new Promise((resolve) => proxy!.close(resolve));
    await stores?.kv.close();
    await stores?.db.destroy();
    await database.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    stores = await openStores(loadConfig({ DATABASE_URL: database.url, DATA_DIR: dataDir, ...TEST_KEYS, ...redisEnv }));

    // the load balancer: each request to the next instance, round robin
    const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
    let next = 0;
    proxy = http.createServer((req, res) => {
      const index = next++ % count;
      served.push(index);
      const upstream = http.request({ host: '127.0.0.1', port: ports[index], path: req.url, method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => (res.writeHead(502), res.end()));
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy!.listen(0, '127.0.0.1', resolve));
    const issuer = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;

    for (const port of ports) {
      const output: string[] = [];
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        env: { PATH: process.env.PATH, PORT: String(port), ISSUER: issuer, DATABASE_URL: database.url, DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...TEST_KEYS, ...redisEnv },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
      child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
      children.push(child);
      outputs.push(output);
    }
    for (const [i, port] of ports.entries()) {
      let ready = false;
      for (let t = 0; t < 300 && !ready; t += 1) {
        ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
        if (!ready) await new Promise((r) => setTimeout(r, 200));
      }
      if (!ready) throw new Error(`instance ${i} did not become ready:\n${outputs[i]!.join('')}`);
    }
    return { issuer, stores, served, outputs, close };
  } catch (error) {
    await close();
    throw error;
  }
}
