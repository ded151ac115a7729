import type { Config } from '../config/environment.js';
import { resolveSecrets } from '../config/secrets.js';
import { SecretBox } from '../crypto/secret-box.js';
import type { Logger } from '../log.js';
import { AccountStore } from './accounts.js';
import { AuditLog } from './audit-events.js';
import { ClientStore } from './clients.js';
import { SecondFactorStore } from './second-factors.js';
import { migrate, openDatabase, type Database } from './database.js';
import { openKeyValueStore, type KeyValueStore } from './kv/index.js';
import { SigningKeyStore } from './signing-keys.js';
import { TenantStore } from './tenants.js';

export interface Stores {
  db: Database;
  kv: KeyValueStore;
  box: SecretBox;
  tenants: TenantStore;
  accounts: AccountStore;
  clients: ClientStore;
  signingKeys: SigningKeyStore;
  secondFactors: SecondFactorStore;
  audit: AuditLog;
}

/** Opens the database (migrated) and the key-value store; tests may pass their own. */
export async function openStores(config: Config, log?: Logger, overrides: { db?: Database; kv?: KeyValueStore } = {}): Promise<Stores> {
  const secrets = resolveSecrets(config, log);
  const box = new SecretBox(secrets.encryptionKeys);
  const db = overrides.db ?? openDatabase({ url: config.databaseUrl, dataDir: config.databaseUrl ? undefined : config.dataDir });
  await migrate(db);
  const kv = overrides.kv ?? openKeyValueStore({ redis: config.redis, log });
  return {
    db,
    kv,
    box,
    tenants: new TenantStore(db),
    accounts: new AccountStore(db),
    clients: new ClientStore(db, box),
    signingKeys: new SigningKeyStore(db, box),
    secondFactors: new SecondFactorStore(db, box),
    audit: new AuditLog(db),
  };
}

