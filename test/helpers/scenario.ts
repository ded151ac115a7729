import { afterAll, beforeAll } from '@jest/globals';
import { RelyingParty } from './relying-party.js';
import { seedTenant, type Seeded } from './seed.js';
import { startServer, type TestServer } from './server.js';
import type { StoreMode } from './stores.js';

export interface Scenario {
  server: TestServer;
  seeded: Seeded;
  /** the Econobis-like confidential client */
  staffRp: RelyingParty;
  /** the portal-like public client */
  portalRp: RelyingParty;
}

/**
 * The usual setup of a suite: a server on `mode`, one seeded cooperative and a relying party per
 * pool, started before the suite's tests and stopped after them. The fields are filled in beforeAll.
 */
export function useScenario(mode: StoreMode, options: { env?: () => Record<string, string> } = {}): Scenario {
  const scenario = {} as Scenario;
  beforeAll(async () => {
    scenario.server = await startServer(mode, { env: options.env?.() });
    scenario.seeded = await seedTenant(scenario.server.sleutel.stores);
    scenario.staffRp = await RelyingParty.discover(scenario.server.url, scenario.seeded.staffClient);
    scenario.portalRp = await RelyingParty.discover(scenario.server.url, scenario.seeded.portalClient);
  });
  afterAll(() => scenario.server?.close());
  return scenario;
}
