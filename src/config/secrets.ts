import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config, EncryptionKey } from './environment.js';

export interface Secrets {
  encryptionKeys: EncryptionKey[];
  cookieKeys: string[];
}

interface StoredSecrets {
  encryption_keys: string;
  cookie_keys: string[];
}

/**
 * The keys from the environment, or — outside production — keys generated once into
 * DATA_DIR/secrets.json so a developer's `npm start` works and survives restarts.
 * loadConfig already refused missing keys in production.
 */
export function resolveSecrets(config: Config, log?: Logger): Secrets {
  if (config.encryptionKeys && config.cookieKeys) {
    return { encryptionKeys: config.encryptionKeys, cookieKeys: config.cookieKeys };
  }
  const file = path.join(config.dataDir, 'secrets.json');
  let stored: StoredSecrets;
  if (fs.existsSync(file)) {
    stored = JSON.parse(fs.readFileSync(file, 'utf8')) as StoredSecrets;
  } else {
    stored = {
      encryption_keys: `k${new Date().toISOString().slice(0, 10).replaceAll('-', '')}:${randomBytes(32).toString('base64')}`,
      cookie_keys: [randomBytes(32).toString('base64url')],
    };
    fs.mkdirSync(config.dataDir, { recursive: true });
    fs.writeFileSync(file, JSON.stringify(stored, null, 2), { mode: 0o600 });
  }
  log?.warn(
    { file },
    '!!! ENCRYPTION_KEYS / COOKIE_KEYS not set: using keys generated into DATA_DIR. Fine for trying Sleutel; set both in production. !!!',
  );
  const [id, key] = stored.encryption_keys.split(':') as [string, string];
  return {
    encryptionKeys: config.encryptionKeys ?? [{ id, key: Buffer.from(key, 'base64') }],
    cookieKeys: config.cookieKeys ?? stored.cookie_keys,
  };
}
