import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { loadConfig, type Config } from '../../src/config/environment.js';
import { createLogger, type Logger } from '../../src/log.js';
import { createSleutel, type Sleutel } from '../../src/wiring.js';
import { openTestStores, type StoreMode, type TestStores } from './stores.js';

/** Keys shared by every instance a test starts (a second instance must read the first's secrets). */
export const TEST_KEYS = {
  ENCRYPTION_KEYS: `test1:${Buffer.alloc(32, 7).toString('base64')}`,
  COOKIE_KEYS: 'test-cookie-key-0123456789abcdefghijklmnop',
};

export interface TestServer {
  url: string;
  config: Config;
  sleutel: Sleutel;
  stores: TestStores;
  close(): Promise<void>;
}

/** Starts Sleutel on a free loopback port; the issuer is that address. */
export async function startServer(mode: StoreMode, options: { stores?: TestStores; env?: Record<string, string>; logger?: Logger; port?: number } = {}): Promise<TestServer> {
  const stores = options.stores ?? (await openTestStores(mode));
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sleutel-test-'));
  const config = loadConfig({ ISSUER: url, DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...TEST_KEYS, ...options.env });
  const sleutel = await createSleutel(config, options.logger ?? createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'), { db: stores.db, kv: stores.kv });
  server.on('request', sleutel.app.callback());
  return {
    url,
    config,
    sleutel,
    stores,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      if (!options.stores) await stores.dispose();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const randomPassword = () => `pw-${randomBytes(9).toString('base64url')}`;
