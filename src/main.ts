import type { Server } from 'node:http';
import { loadConfig, type Config } from './config/environment.js';
import { seedDemo } from './demo/seed.js';
import { ConfigError } from './errors.js';
import { createLogger } from './log.js';
import { DataDirInUse, lockDataDir } from './stores/data-dir-lock.js';
import { createSleutel } from './wiring.js';

/** `npm start`: configuration → wiring → listen; a first start outside production seeds a demo. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`sleutel: configuration error: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  const log = createLogger(config.logLevel);
  let unlock = () => {};
  if (!config.databaseUrl) {
    try {
      unlock = lockDataDir(config.dataDir);
    } catch (error) {
      if (!(error instanceof DataDirInUse)) throw error;
      console.error(`sleutel: ${error.message}`);
      process.exit(1);
    }
    log.warn({ data_dir: config.dataDir }, 'embedded mode: PGlite under DATA_DIR; set DATABASE_URL and REDIS_URL for production');
  }
  if (!config.redis) log.warn('no Redis set (REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS): sessions are kept in this process only and end when it stops');

  const sleutel = await createSleutel(config, log);
  sleutel.metrics.collectProcessMetrics();
  const demo = config.production ? undefined : await seedDemo(sleutel.stores, config);

  const server: Server = sleutel.app.listen(config.port, () => {
    log.info({ issuer: config.issuer, port: config.port }, 'sleutel is listening');
    if (demo) process.stdout.write(demo.instructions);
  });
  server.keepAliveTimeout = 65_000; // longer than common load balancer idle timeouts

  let stopping = false;
  // SIGTERM: /readyz turns 503 at once so the load balancer stops sending; requests keep being
  // served for SHUTDOWN_DRAIN_SECONDS (answered with Connection: close), then the server stops
  // accepting, lets requests in flight finish, and closes the stores.
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, drain_seconds: config.shutdownDrainSeconds }, 'shutting down: readiness off, draining');
    sleutel.beginShutdown();
    await new Promise((resolve) => setTimeout(resolve, config.shutdownDrainSeconds * 1000));
    const force = setTimeout(() => {
      log.warn('requests still open after 10 s; closing them');
      server.closeAllConnections();
    }, 10_000).unref();
    server.close(async () => {
      clearTimeout(force);
      await sleutel.close();
      unlock();
      log.info('stopped');
      process.exit(0);
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  console.error('sleutel: failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
