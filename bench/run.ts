/**
 * `npm run bench`: Sleutel on Postgres + Redis, side by side with a bare oidc-provider on Redis
 * (bench/bare/server.ts, the ceiling of this stack), both as separate processes on loopback.
 * Both run compiled (bench/tsconfig.build.json), as the Docker image runs Sleutel.
 * Measures full 2FA logins, the token endpoints, userinfo, argon2 verifies, RSS with 100 000
 * live sessions and the time to ready of `npm start`, prints one table and writes it as JSON.
 *
 * Environment: DATABASE_URL (default postgres://root@127.0.0.1:5432/postgres; a database
 * sleutel_bench_<random> is created on that server and dropped afterwards), REDIS_URL (default
 * redis://127.0.0.1:6379; an empty database index of its own is claimed and flushed afterwards),
 * BENCH_SMOKE=1 (a tiny load, only to check that the bench works), BENCH_OUTPUT (the JSON file;
 * default bench/results/latest.json), BENCH_NODE_ARGS (node options for both servers, e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile them).
 */
import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { loadConfig } from '../src/config/environment.js';
import { KeyValueAdapter } from '../src/oidc/adapter.js';
import { TTL } from '../src/oidc/provider.js';
import { PASSWORD_HASHING_CONCURRENCY } from '../src/factors/password.js';
import { ACR_TWO_FACTOR } from '../src/policy/authentication-level.js';
import { openStores, type Stores } from '../src/stores/open.js';
import { measureArgon2, type Argon2Result } from './lib/argon2.js';
import { buildServers, imageNodeOptions } from './lib/build.js';
import { HttpClient } from './lib/http.js';
import { load, clientCredentialsRequest, refreshRequest, userinfoRequest, type LoadResult } from './lib/load.js';
import { AccountPool, closedLoop, login, openLoop, type LoginTarget, type LoginTokens } from './lib/logins.js';
import { cpuMs, freePort, root, rssMb, startNode, stopProcess, waitReady, type Running } from './lib/processes.js';
import { seed } from './lib/seed.js';
import { median, nowMs, ratio, round, sleep } from './lib/stats.js';
import { formatTable, type Report } from './lib/report.js';

const smoke = process.env.BENCH_SMOKE === '1';

/** Durations in seconds; the full run stays under about five minutes. */
const plan = smoke
  ? { argon2: 0.3, warmupLogins: 4, loginPeak: 1.5, loginHalf: 1.5, bareLogins: 1, loadWarmup: 0.3, load: 1, rounds: 1, sessions: 1000, sessionRequests: 50, readyRuns: 1, accounts: 80, loginConcurrency: 2, connections: 2 }
  : { argon2: 3, warmupLogins: 40, loginPeak: 15, loginHalf: 15, bareLogins: 10, loadWarmup: 2, load: 5, rounds: 4, sessions: 100_000, sessionRequests: 2000, readyRuns: 5, accounts: 3000, loginConcurrency: 8, connections: 10 };

/** A closed-loop login run with the CPU time the server and this driver spent per login. */
async function measuredLogins(target: LoginTarget, pid: number, concurrency: number, seconds: number) {
  const server = cpuMs(pid);
  const driver = process.cpuUsage();
  const run = await closedLoop(target, concurrency, seconds);
  const used = process.cpuUsage(driver);
  const serverUsed = server === null ? null : cpuMs(pid)! - server;
  const ok = Math.max(1, run.samples.ok);
  return {
    ...run,
    serverCpuMsPerLogin: serverUsed === null ? null : round(serverUsed / ok, 2),
    driverCpuMsPerLogin: round((used.user + used.system) / 1000 / ok, 2),
  };
}

const log = (message: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

const cleanups: (() => Promise<void>)[] = [];
async function cleanup() {
  for (const step of cleanups.splice(0).reverse()) await step().catch((error: Error) => log(`cleanup: ${error.message}`));
}

/** A fresh database on the DATABASE_URL server. */
async function createDatabase(adminUrl: string): Promise<string> {
  const name = `sleutel_bench_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  await client.query(`create database ${name}`);
  await client.end();
  cleanups.push(async () => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    await c.query(`drop database if exists ${name} with (force)`);
    await c.end();
  });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.href;
}

/**
 * Sleutel takes REDIS_URL as an operator gives it (no key prefix), so the bench claims a Redis
 * database index of its own: an empty one, marked with a key set only if absent (two runs cannot
 * take the same one), flushed afterwards. Index 0 is left to the test suite's prefixes and 11 to
 * its two-process test.
 */
async function claimRedisDatabase(baseUrl: string): Promise<string> {
  const candidates = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 14, 15].sort(() => Math.random() - 0.5);
  for (const index of candidates) {
    const url = new URL(baseUrl);
    url.pathname = `/${index}`;
    const redis = new Redis(url.href, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    try {
      if ((await redis.dbsize()) !== 0) continue;
      if ((await redis.set('sleutel-bench:claim', String(process.pid), 'NX')) !== 'OK') continue;
      cleanups.push(async () => {
        const r = new Redis(url.href);
        await r.flushdb();
        await r.quit();
      });
      return url.href;
    } finally {
      await redis.quit();
    }
  }
  throw new Error('no empty Redis database index (1-15) to run the bench in');
}

/** oidc-provider's (keygrip) cookie signature, to send a session cookie as a browser would. */
function signedCookie(name: string, value: string, key: string): string {
  const sig = createHmac('sha1', key).update(`${name}=${value}`).digest('base64').replace(/\//g, '_').replace(/\+/g, '-').replace(/=+$/, '');
  return `${name}=${value}; ${name}.sig=${sig}`;
}

/** Live sessions written through the KV adapter exactly as oidc-provider's Session model stores them. */
async function writeSessions(stores: Stores, count: number, accountIds: string[], clientId: string): Promise<string[]> {
  const adapter = new KeyValueAdapter('Session', stores.kv);
  const ids: string[] = [];
  const now = Math.floor(Date.now() / 1000);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const jti = randomBytes(16).toString('base64url');
      const accountId = accountIds[i % accountIds.length]!;
      ids.push(jti);
      await adapter.upsert(
        jti,
        {
          iat: now,
          exp: now + TTL.Session,
          uid: randomBytes(16).toString('base64url'),
          jti,
          kind: 'Session',
          accountId,
          loginTs: now,
          acr: ACR_TWO_FACTOR,
          amr: ['pwd', 'otp'],
          authorizations: { [clientId]: { sid: randomBytes(16).toString('base64url'), grantId: randomBytes(16).toString('base64url'), persistsLogout: false } },
        },
        TTL.Session,
      );
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  return ids;
}

/** V8's heap from Sleutel's /metrics: how much of the resident size is heap, and how much of that is in use. */
async function heapOf(url: string): Promise<{ heapTotalMb: number | null; heapUsedMb: number | null }> {
  const text = await fetch(`${url}/metrics`).then((r) => r.text(), () => '');
  const value = (name: string) => {
    const match = new RegExp(`^${name} (\\d+)`, 'm').exec(text);
    return match ? round(Number(match[1]) / 1048576) : null;
  };
  return { heapTotalMb: value('sleutel_nodejs_heap_size_total_bytes'), heapUsedMb: value('sleutel_nodejs_heap_size_used_bytes') };
}

/** ABBA: ours, bare, bare, ours, … so both see the same (shared, noisy) machine on average. */
async function sideBySide(rounds: number, ours: () => Promise<LoadResult>, bare: () => Promise<LoadResult>) {
  const a: LoadResult[] = [];
  const b: LoadResult[] = [];
  for (let i = 0; i < rounds; i += 1) {
    if (i % 2 === 0) {
      a.push(await ours());
      b.push(await bare());
    } else {
      b.push(await bare());
      a.push(await ours());
    }
  }
  const mean = (values: (number | null)[]) => (values.some((v) => v === null) ? null : round(values.reduce((s, v) => s! + v!, 0)! / values.length, 3));
  const combine = (rs: LoadResult[]) => ({
    perSecond: round(rs.reduce((s, r) => s + r.perSecond, 0) / rs.length),
    p50: Math.max(...rs.map((r) => r.p50)),
    p99: Math.max(...rs.map((r) => r.p99)),
    failed: rs.reduce((s, r) => s + r.failed, 0),
    cpuMsPerRequest: mean(rs.map((r) => r.cpuMsPerRequest)),
    runs: rs.map((r) => r.perSecond),
  });
  const ourResult = combine(a);
  const bareResult = combine(b);
  // The machine's speed drifts by a quarter from one run to the next here (a shared VM): each
  // round's two runs follow each other, so the ratio is the median of the rounds' ratios.
  const pairedMedian = (values: (number | null)[]) => (values.some((v) => v === null) ? null : round(median(values as number[])!, 3));
  return {
    ours: ourResult,
    bare: bareResult,
    ratio: pairedMedian(a.map((r, i) => ratio(r.perSecond, b[i]!.perSecond))),
    // bare CPU per request over ours: the same ratio, less sensitive to other load on the machine
    cpu_ratio: pairedMedian(a.map((r, i) => ratio(b[i]!.cpuMsPerRequest, r.cpuMsPerRequest))),
    round_ratios: a.map((r, i) => ratio(r.perSecond, b[i]!.perSecond)),
  };
}

/** `npm start` on an existing DATA_DIR (embedded mode): spawn → GET /readyz 200, median of `runs`. */
async function timeToReady(runs: number): Promise<{ medianMs: number | null; runsMs: number[] }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sleutel-bench-ready-'));
  cleanups.push(async () => fs.rmSync(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const start = async () => {
    const output: string[] = [];
    const started = nowMs();
    const child = spawn('npm', ['start', '--silent'], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // a process group of its own: npm, sh and node are stopped together
    });
    child.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
    child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
    const stop = async () => {
      await stopProcess(child, true);
      // the server gives DATA_DIR back once it has stopped
      for (let i = 0; i < 100 && fs.existsSync(path.join(dataDir, 'sleutel.pid')); i += 1) await sleep(50);
    };
    try {
      const ms = await waitReady(url, child, output, started, 60_000, 10);
      return { ms, stop };
    } catch (error) {
      await stop();
      throw error;
    }
  };
  const first = await start(); // creates DATA_DIR: database, keys, demo
  await first.stop();
  const runsMs: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const run = await start();
    runsMs.push(Math.round(run.ms));
    await run.stop();
  }
  return { medianMs: median(runsMs), runsMs };
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const adminUrl = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
  const redisBase = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const output = process.env.BENCH_OUTPUT ?? path.join(root, 'bench/results/latest.json');
  const loadAverage = os.loadavg();
  log(`${smoke ? 'smoke run' : 'full run'} on ${os.availableParallelism()} cores, load average ${loadAverage.map((l) => l.toFixed(2)).join(' ')}`);

  const databaseUrl = await createDatabase(adminUrl);
  const redisUrl = await claimRedisDatabase(redisBase);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sleutel-bench-'));
  cleanups.push(async () => fs.rmSync(dataDir, { recursive: true, force: true }));
  const keys = { ENCRYPTION_KEYS: `bench:${randomBytes(32).toString('base64')}`, COOKIE_KEYS: randomBytes(32).toString('base64url') };
  const [ourPort, barePort] = [await freePort(), await freePort()];
  const ourUrl = `http://127.0.0.1:${ourPort}`;
  const redirectUri = 'http://127.0.0.1:9/callback';

  // the schema and the accounts, before the servers start
  const config = loadConfig({ DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...keys });
  const stores = await openStores(config);
  cleanups.push(async () => {
    await stores.kv.close();
    await stores.db.destroy();
  });
  let t = nowMs();
  const seeded = await seed(stores, plan.accounts, redirectUri);
  log(`seeded ${plan.accounts} accounts with 2FA in ${Math.round(nowMs() - t)} ms`);

  log('argon2 verifies/s (servers not started yet)');
  const argon2: Argon2Result[] = await measureArgon2(plan.argon2);
  const argon2Limit = argon2[0]!.perSecond!;

  const sleutelEnv = { ISSUER: ourUrl, DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...keys };
  const bareSecret = randomBytes(24).toString('base64url');
  const bareEnv = { REDIS_URL: redisUrl, BARE_PREFIX: `bare:${randomBytes(4).toString('hex')}:`, BARE_SECRET: bareSecret, BARE_REDIRECT_URI: redirectUri, COOKIE_KEY: randomBytes(32).toString('base64url') };
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const built = buildServers();
  t = nowMs();
  // Sleutel with the Docker image's node options (heap pacing); the bare provider with node's defaults
  const sleutelNodeOptions = imageNodeOptions();
  const ours: Running = startNode('sleutel', built.sleutel, ourPort, sleutelEnv, [...sleutelNodeOptions, ...nodeArgs]);
  const bare: Running = startNode('bare', built.bare, barePort, bareEnv, nodeArgs);
  cleanups.push(() => stopProcess(ours.child));
  cleanups.push(() => stopProcess(bare.child));
  const ourReadyMs = await waitReady(ours.url, ours.child, ours.output, t);
  await waitReady(bare.url, bare.child, bare.output, t);
  log(`servers ready (Sleutel on Postgres + Redis in ${Math.round(ourReadyMs)} ms, node options: ${sleutelNodeOptions.join(' ') || 'none'})`);

  const ourHttp = new HttpClient(ours.url, 256);
  const bareHttp = new HttpClient(bare.url, 256);
  const accounts = new AccountPool(seeded.accounts);
  const ourTarget: LoginTarget = {
    name: 'sleutel',
    http: ourHttp,
    clientId: seeded.staffClient.clientId,
    secret: seeded.staffClient.secret,
    redirectUri,
    scope: 'openid email profile tenant',
    screens: { accounts, password: seeded.password },
    expectedAcr: ACR_TWO_FACTOR,
  };
  const bareTarget: LoginTarget = { name: 'bare', http: bareHttp, clientId: 'bare-code', secret: bareSecret, redirectUri, scope: 'openid email profile' };

  // Warm-up (JIT, connection pools) and the token chains for refresh and userinfo. A rotating
  // refresh token in flight when a run ends is lost with its answer: each run may end up to one
  // chain per connection, so there are enough for every run (warm-up and measured, per round).
  const chains = Math.max(plan.connections * (2 * plan.rounds + 2), plan.warmupLogins);
  const ourTokens: LoginTokens[] = [];
  const bareTokens: LoginTokens[] = [];
  for (let i = 0; i < chains; i += 1) {
    ourTokens.push(await login(ourTarget));
    bareTokens.push(await login(bareTarget));
  }

  log(`full logins: Sleutel, ${plan.loginConcurrency} at a time for ${plan.loginPeak} s`);
  const rssAtRest = rssMb(ours.child.pid!);
  // the highest resident size Sleutel reaches under the load that follows (what a container limit must allow)
  let rssPeak = rssAtRest ?? 0;
  const rssSampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssMb(ours.child.pid!) ?? 0)), 100);
  cleanups.push(async () => clearInterval(rssSampler));
  const peak = await measuredLogins(ourTarget, ours.child.pid!, plan.loginConcurrency, plan.loginPeak);
  if (peak.samples.failed) log(`  ${peak.samples.failed} failed: ${peak.samples.firstError}`);
  log(`  ${peak.perSecond}/s; bare oidc-provider for ${plan.bareLogins} s`);
  const bareLogins = await measuredLogins(bareTarget, bare.child.pid!, plan.loginConcurrency, plan.bareLogins);
  if (bareLogins.samples.failed) log(`  ${bareLogins.samples.failed} failed: ${bareLogins.samples.firstError}`);
  const halfRate = Math.max(1, peak.perSecond / 2);
  log(`  bare ${bareLogins.perSecond}/s; Sleutel at half of peak (${round(halfRate)}/s) for ${plan.loginHalf} s`);
  const half = await openLoop(ourTarget, halfRate, plan.loginHalf);
  if (half.samples.failed) log(`  ${half.samples.failed} failed: ${half.samples.firstError}`);

  const c = plan.connections;
  const run = (server: Running, request: Parameters<typeof load>[0]['requests'][number]) => async () => {
    await load({ url: server.url, connections: c, seconds: plan.loadWarmup, requests: [request] });
    return load({ url: server.url, connections: c, seconds: plan.load, requests: [request], pid: server.child.pid });
  };
  log(`client_credentials, ${c} connections`);
  const clientCredentials = await sideBySide(
    plan.rounds,
    run(ours, clientCredentialsRequest(seeded.serviceClient.clientId, seeded.serviceClient.secret, 'manage')),
    run(bare, clientCredentialsRequest('bare-service', bareSecret)),
  );
  log('refresh_token');
  const refresh = await sideBySide(
    plan.rounds,
    run(ours, refreshRequest(seeded.staffClient.clientId, seeded.staffClient.secret, ourTokens.map((x) => x.refresh_token!))),
    run(bare, refreshRequest('bare-code', bareSecret, bareTokens.map((x) => x.refresh_token!))),
  );
  log('userinfo');
  const userinfo = await sideBySide(
    plan.rounds,
    run(ours, userinfoRequest(ourTokens.map((x) => x.access_token))),
    run(bare, userinfoRequest(bareTokens.map((x) => x.access_token))),
  );

  const rssAfterLoad = rssMb(ours.child.pid!);
  log(`${plan.sessions} live sessions through the KV adapter`);
  t = nowMs();
  const sessionIds = await writeSessions(stores, plan.sessions, seeded.accounts.map((a) => a.id), seeded.staffClient.clientId);
  const sessionWriteMs = Math.round(nowMs() - t);
  // exercise: authorization requests with prompt=none carrying some of those session cookies
  const cookieKey = keys.COOKIE_KEYS;
  const authQuery = new URLSearchParams({ client_id: seeded.staffClient.clientId, redirect_uri: redirectUri, response_type: 'code', scope: 'openid', prompt: 'none', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' });
  let sessionsSeen = 0;
  let answered = 0;
  for (let i = 0; i < plan.sessionRequests; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, plan.sessionRequests - i) }, async () => {
        const id = sessionIds[Math.floor(Math.random() * sessionIds.length)]!;
        const response = await ourHttp.request('GET', `/auth?${authQuery}`, { headers: { cookie: signedCookie('sleutel.session', id, cookieKey) } });
        answered += 1;
        // a session that was found gets past login_required (consent is what it lacks)
        const error = response.location ? new URL(response.location).searchParams.get('error') : undefined;
        if (response.status === 303 && error && error !== 'login_required') sessionsSeen += 1;
      }),
    );
  }
  await sleep(500);
  clearInterval(rssSampler);
  const rss = { sleutelMb: rssMb(ours.child.pid!), sleutelPeakMb: rssPeak, sleutelAfterLoadMb: rssAfterLoad, sleutelAtRestMb: rssAtRest, bareMb: rssMb(bare.child.pid!), ...(await heapOf(ours.url)) };
  log(`RSS ${rss.sleutelMb} MB (before the sessions: ${rssAfterLoad} MB); ${sessionsSeen}/${answered} requests found their session`);

  ourHttp.close();
  bareHttp.close();
  await stopProcess(ours.child);
  await stopProcess(bare.child);

  log(`time to ready of npm start on an existing DATA_DIR (embedded), ${plan.readyRuns} runs`);
  const ready = await timeToReady(plan.readyRuns);

  const steps = (s: typeof peak.samples) => s.summary();
  const report: Report = {
    started_at: startedAt.toISOString(),
    finished_at: new Date().toISOString(),
    smoke,
    machine: { cores: os.availableParallelism(), cpu: os.cpus()[0]?.model ?? 'unknown', node: process.version, load_average_at_start: loadAverage.map((l) => round(l, 2)), sleutel_node_options: sleutelNodeOptions.join(' '), sleutel_password_hashing_concurrency: PASSWORD_HASHING_CONCURRENCY },
    plan,
    argon2: { results: argon2, limit_per_second: argon2Limit },
    logins: {
      sleutel: {
        per_second: peak.perSecond,
        concurrency: plan.loginConcurrency,
        seconds: peak.elapsed,
        ok: peak.samples.ok,
        failed: peak.samples.failed,
        server_cpu_ms_per_login: peak.serverCpuMsPerLogin,
        driver_cpu_ms_per_login: peak.driverCpuMsPerLogin,
        steps: steps(peak.samples),
      },
      bare: {
        per_second: bareLogins.perSecond,
        concurrency: plan.loginConcurrency,
        seconds: bareLogins.elapsed,
        ok: bareLogins.samples.ok,
        failed: bareLogins.samples.failed,
        server_cpu_ms_per_login: bareLogins.serverCpuMsPerLogin,
        driver_cpu_ms_per_login: bareLogins.driverCpuMsPerLogin,
        steps: steps(bareLogins.samples),
      },
      // of Sleutel's own CPU per login, the share that is the one argon2 verify
      argon2_share_of_server_cpu: ratio(argon2[0]!.cpuMsPerVerify, peak.serverCpuMsPerLogin),
      waits_for_fresh_time_step: accounts.waits,
      half_load: { rate: round(halfRate), per_second: half.perSecond, ok: half.samples.ok, failed: half.samples.failed, skipped: half.skipped, steps: steps(half.samples) },
      ratio_to_argon2_limit: ratio(peak.perSecond, argon2Limit),
      ratio_to_bare: ratio(peak.perSecond, bareLogins.perSecond),
    },
    endpoints: { client_credentials: clientCredentials, refresh_token: refresh, userinfo },
    rss: { ...rss, sessions: plan.sessions, session_write_ms: sessionWriteMs, requests_with_session: sessionsSeen, requests: answered },
    ready: { npm_start_embedded_median_ms: ready.medianMs, runs_ms: ready.runsMs, postgres_redis_first_start_ms: Math.round(ourReadyMs) },
  };
  report.targets = [
    { target: 'full logins ≥ 80 % of the argon2 limit', value: report.logins.ratio_to_argon2_limit, met: (report.logins.ratio_to_argon2_limit ?? 0) >= 0.8 },
    ...(['client_credentials', 'refresh_token', 'userinfo'] as const).map((k) => ({
      target: `${k} ≥ 85 % of bare oidc-provider`,
      value: report.endpoints[k].ratio,
      met: (report.endpoints[k].ratio ?? 0) >= 0.85,
    })),
    { target: 'p99 of the code step < 15 ms at half of peak load', value: report.logins.half_load.steps.code.p99, met: (report.logins.half_load.steps.code.p99 ?? Infinity) < 15 },
    { target: 'RSS < 200 MB with 100 000 live sessions', value: rss.sleutelMb, met: (rss.sleutelMb ?? Infinity) < 200 },
    { target: 'ready ≤ 3 s (npm start, existing DATA_DIR)', value: ready.medianMs, met: (ready.medianMs ?? Infinity) <= 3000 },
  ];

  fs.mkdirSync(path.dirname(output), { recursive: true });
  fs.writeFileSync(output, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${formatTable(report)}\n\nJSON: ${path.relative(process.cwd(), output)}\n`);
}

const interrupted = () => {
  log('interrupted; cleaning up');
  void cleanup().finally(() => process.exit(130));
};
process.on('SIGINT', interrupted);
process.on('SIGTERM', interrupted);

main()
  .then(cleanup)
  .then(() => process.exit(0))
  .catch(async (error: unknown) => {
    log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    await cleanup();
    process.exit(1);
  });
