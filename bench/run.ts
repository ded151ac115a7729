/**
 * `npm run bench`: Sleutel on Postgres + Redis, side by side with a bare oidc-provider on Redis
 * (bench/bare/server.ts, the OIDC machinery Sleutel is built on), both as separate processes on
 * loopback, both compiled (bench/tsconfig.build.json) as the Docker image runs Sleutel.
 *
 * The measure is CPU time per operation of the server process (all its threads, /proc/<pid>/stat)
 * over a fixed number of operations, against the same figure for a reference measured in the same
 * run: one argon2id verify at Sleutel's parameters, and the bare provider's code login and token
 * requests. CPU per operation barely moves with the host's speed of the moment; throughput and
 * latency are reported for information only. Logins and argon2 run in rounds (Sleutel 2FA,
 * password-only, bare, argon2), the token endpoints in alternating rounds (ours, bare, bare, ours);
 * each ratio is the median of the rounds' ratios. Then the cost of the Cluster hop: a second Sleutel
 * on a 3-master Redis Cluster of the bench's own (REDIS_CLUSTER_NODES; skipped, with the reason
 * printed, without redis-server and redis-cli), full 2FA logins and client_credentials,
 * refresh_token and userinfo in alternating rounds with the single-Redis Sleutel, as the ratio
 * Cluster / single Redis of CPU per operation.
 *
 * Environment: DATABASE_URL (default postgres://root@127.0.0.1:5432/postgres; a database
 * sleutel_bench_<random> is created on that server and dropped afterwards), REDIS_URL (default
 * redis://127.0.0.1:6379; an empty database index of its own is claimed and flushed afterwards),
 * BENCH_SMOKE=1 (a tiny load, only to check that the bench works), BENCH_OUTPUT (the JSON file;
 * default bench/results/latest.json), BENCH_NODE_ARGS (node options for both servers, e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof`; `node --import tsx bench/profile.ts /tmp/prof` then breaks
 * each profile down by phase of the run and by library).
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
import { load, clientCredentialsRequest, introspectionRequest, refreshRequest, userinfoRequest, type CheckedRequest, type LoadResult } from './lib/load.js';
import { AccountPool, countedLoop, login, StepSamples, type LoginTarget, type LoginTokens } from './lib/logins.js';
import { cpuMs, freePort, root, rssMb, startNode, stopProcess, waitReady, type Running } from './lib/processes.js';
import { redisClusterBinaries, startRedisCluster } from './lib/redis-cluster.js';
import { seed, type BenchSeed } from './lib/seed.js';
import { median, nowMs, ratio, round, sleep } from './lib/stats.js';
import { CLUSTER_ENDPOINTS, ENDPOINTS, formatTable, TARGETS, type ClusterComparison, type ClusterReport, type ClusterSide, type EndpointName, type LoginKind, type Phase, type Report } from './lib/report.js';

const smoke = process.env.BENCH_SMOKE === '1';

/** Counts of operations; the full run takes about seven minutes on two busy cores (three of them the Cluster part). */
const plan = smoke
  ? { accounts: 100, passwordOnlyAccounts: 10, warmupLogins: 4, loginRounds: 1, logins: 6, bareLogins: 10, argon2Verifies: 6, loginConcurrency: 2, serialLogins: 3, endpointRounds: 1, requests: 100, warmupRequests: 30, connections: 2, sessions: 1000, sessionRequests: 50, readyRuns: 1, clusterChains: 4, clusterRounds: 1, clusterLogins: 6, clusterEndpointRounds: 1 }
  : { accounts: 3000, passwordOnlyAccounts: 200, warmupLogins: 40, loginRounds: 5, logins: 150, bareLogins: 300, argon2Verifies: 60, loginConcurrency: 8, serialLogins: 60, endpointRounds: 4, requests: 3000, warmupRequests: 300, connections: 10, sessions: 100_000, sessionRequests: 2000, readyRuns: 5, clusterChains: 20, clusterRounds: 4, clusterLogins: 150, clusterEndpointRounds: 4 };

/** A counted login run with the CPU time the server and this driver spent per login. */
async function measuredLogins(target: LoginTarget, pid: number, concurrency: number, count: number) {
  const server = cpuMs(pid);
  const driver = process.cpuUsage();
  const run = await countedLoop(target, concurrency, count);
  const used = process.cpuUsage(driver);
  const serverUsed = server === null ? null : cpuMs(pid)! - server;
  const ok = Math.max(1, run.samples.ok);
  return {
    ...run,
    serverCpuMsPerLogin: serverUsed === null ? null : round(serverUsed / ok, 2),
    driverCpuMsPerLogin: round((used.user + used.system) / 1000 / ok, 2),
  };
}

/** One login at a time: the server's CPU per HTTP request of a login (/proc, so averaged over many logins). */
async function perRequestCpu(target: LoginTarget, pid: number, count: number) {
  const samples = new StepSamples(() => cpuMs(pid));
  await countedLoop(target, 1, count, samples);
  return { cpu_ms: samples.cpuPerRequest(), ok: samples.ok, failed: samples.failed };
}

/** Wall-clock windows of the run's phases on the monotonic clock V8's CPU profiles use (µs). */
const phases: Phase[] = [];
async function phase<T>(name: string, server: Phase['server'], operations: number, action: () => Promise<T>): Promise<T> {
  const start = Math.round(nowMs() * 1000);
  try {
    return await action();
  } finally {
    phases.push({ name, server, operations, start_us: start, end_us: Math.round(nowMs() * 1000) });
  }
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
    cpuMsPerRequest: mean(rs.map((r) => r.cpuMsPerRequest)),
    requests: rs.reduce((s, r) => s + r.ok, 0),
    failed: rs.reduce((s, r) => s + r.failed, 0),
    perSecond: round(rs.reduce((s, r) => s + r.perSecond, 0) / rs.length),
    p50: Math.max(...rs.map((r) => r.p50)),
    p99: Math.max(...rs.map((r) => r.p99)),
  });
  // each round's two runs follow each other, so the ratio is the median of the rounds' ratios
  const roundRatios = a.map((r, i) => ratio(r.cpuMsPerRequest, b[i]!.cpuMsPerRequest));
  return {
    ours: combine(a),
    bare: combine(b),
    cpu_ratio: roundRatios.some((v) => v === null) ? null : round(median(roundRatios as number[])!, 3),
    round_ratios: roundRatios,
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

/** Rounds in the order a, b, b, a, a, b, …: both sides see the same (shared, noisy) machine on average. */
async function alternate<T>(rounds: number, a: () => Promise<T>, b: () => Promise<T>): Promise<{ a: T[]; b: T[] }> {
  const runs = { a: [] as T[], b: [] as T[] };
  for (let i = 0; i < rounds; i += 1) {
    if (i % 2 === 0) {
      runs.a.push(await a());
      runs.b.push(await b());
    } else {
      runs.b.push(await b());
      runs.a.push(await a());
    }
  }
  return runs;
}

/** Cluster against single Redis from per-round CPU figures; the ratio is the median of the rounds' ratios. */
function compare(cluster: ClusterSide, single: ClusterSide): ClusterComparison {
  const roundRatios = cluster.round_cpu_ms.map((c, i) => ratio(c, single.round_cpu_ms[i]));
  return {
    cluster,
    single,
    cpu_ratio: roundRatios.some((v) => v === null) ? null : round(median(roundRatios as number[])!, 3),
    round_ratios: roundRatios,
    throughput_ratio: ratio(cluster.per_second, single.per_second),
  };
}

function side(runs: { cpu: number | null; ok: number; failed: number; perSecond: number }[]): ClusterSide {
  const cpu = runs.map((r) => r.cpu);
  return {
    cpu_ms: cpu.some((v) => v === null) ? null : round(median(cpu as number[])!, 3),
    round_cpu_ms: cpu,
    operations: runs.reduce((s, r) => s + r.ok, 0),
    failed: runs.reduce((s, r) => s + r.failed, 0),
    per_second: round(median(runs.map((r) => r.perSecond))!),
  };
}

/**
 * The cost of the Cluster hop: a second Sleutel process (same build, same Postgres database) on a
 * 3-master Redis Cluster of the bench's own, against the single-Redis Sleutel in alternating rounds
 * of full 2FA logins and of the token endpoints; the Cluster is stopped and removed afterwards.
 */
async function clusterPart(options: { script: string; env: Record<string, string>; nodeArgs: string[]; single: Running; singleTarget: LoginTarget; seeded: BenchSeed }): Promise<{ report: ClusterReport; pid?: number }> {
  const binaries = redisClusterBinaries();
  if ('missing' in binaries) {
    log(`Redis Cluster part skipped: ${binaries.missing}`);
    return { report: { skipped: binaries.missing } };
  }
  log('Redis Cluster: starting 3 masters on loopback');
  const cluster = await startRedisCluster(binaries, 3);
  cleanups.push(cluster.stop);
  const port = await freePort();
  const env = Object.fromEntries(Object.entries(options.env).filter(([k]) => k !== 'REDIS_URL'));
  const t = nowMs();
  const server = startNode('sleutel-cluster', options.script, port, { ...env, ISSUER: `http://127.0.0.1:${port}`, REDIS_CLUSTER_NODES: cluster.nodes.join(',') }, options.nodeArgs);
  cleanups.push(() => stopProcess(server.child));
  await waitReady(server.url, server.child, server.output, t);
  const pid = server.child.pid!;
  const singlePid = options.single.child.pid!;
  const http = new HttpClient(server.url, 256);
  const { singleTarget, seeded } = options;
  // the same account pool: no account logs in twice in one time step, on either server
  const clusterTarget: LoginTarget = { ...singleTarget, name: 'sleutel 2FA on the Cluster', http };
  log(`Redis Cluster: Sleutel ready on ${cluster.nodes.join(',')}; ${plan.clusterChains} warm-up logins on each`);
  // warm-up, and fresh token chains on both (the single-Redis ones above have rotated on)
  const tokens = { cluster: [] as LoginTokens[], single: [] as LoginTokens[] };
  for (let i = 0; i < plan.clusterChains; i += 1) {
    tokens.cluster.push(await login(clusterTarget));
    tokens.single.push(await login(singleTarget));
  }

  log(`Redis Cluster: ${plan.clusterRounds} rounds of ${plan.clusterLogins} full 2FA logins on each, ${plan.loginConcurrency} at a time`);
  const loginRun = (target: LoginTarget, serverPid: number, who: Phase['server']) => () =>
    phase(`${who === 'sleutel' ? 'single redis' : 'cluster'} logins 2fa`, who, plan.clusterLogins, async () => {
      const r = await measuredLogins(target, serverPid, plan.loginConcurrency, plan.clusterLogins);
      if (r.samples.failed) log(`  ${target.name}: ${r.samples.failed} failed: ${r.samples.firstError}`);
      return { cpu: r.serverCpuMsPerLogin, ok: r.samples.ok, failed: r.samples.failed, perSecond: r.perSecond };
    });
  const logins = await alternate(plan.clusterRounds, loginRun(clusterTarget, pid, 'sleutel_cluster'), loginRun(singleTarget, singlePid, 'sleutel'));
  const loginComparison = { ...compare(side(logins.a), side(logins.b)), concurrency: plan.loginConcurrency };
  log(`  CPU per login: Cluster ${loginComparison.cluster.cpu_ms} ms, single Redis ${loginComparison.single.cpu_ms} ms`);

  const c = plan.connections;
  const endpointRun = (name: string, url: string, serverPid: number, who: Phase['server'], request: CheckedRequest) => async () => {
    await load({ url, connections: c, amount: plan.warmupRequests, requests: [request] });
    const r = await phase(`${who === 'sleutel' ? 'single redis' : 'cluster'} ${name}`, who, plan.requests, () => load({ url, connections: c, amount: plan.requests, requests: [request], pid: serverPid }));
    return { cpu: r.cpuMsPerRequest, ok: r.ok, failed: r.failed, perSecond: r.perSecond };
  };
  const { clientId, secret } = seeded.staffClient;
  const requests = (chains: LoginTokens[]): Record<(typeof CLUSTER_ENDPOINTS)[number], CheckedRequest> => ({
    client_credentials: clientCredentialsRequest(seeded.serviceClient.clientId, seeded.serviceClient.secret, 'manage'),
    refresh_token: refreshRequest(clientId, secret, chains.map((x) => x.refresh_token!)),
    userinfo: userinfoRequest(chains.map((x) => x.access_token)),
  });
  const onCluster = requests(tokens.cluster);
  const onSingle = requests(tokens.single);
  const endpoints = {} as Extract<ClusterReport, { skipped: null }>['endpoints'];
  for (const name of CLUSTER_ENDPOINTS) {
    log(`Redis Cluster: ${name}, ${plan.clusterEndpointRounds} rounds of ${plan.requests} requests on each, ${c} connections`);
    const runs = await alternate(plan.clusterEndpointRounds, endpointRun(name, server.url, pid, 'sleutel_cluster', onCluster[name]), endpointRun(name, options.single.url, singlePid, 'sleutel', onSingle[name]));
    endpoints[name] = compare(side(runs.a), side(runs.b));
    log(`  CPU per request: Cluster ${endpoints[name].cluster.cpu_ms} ms, single Redis ${endpoints[name].single.cpu_ms} ms`);
  }

  http.close();
  await stopProcess(server.child);
  await cluster.stop();
  log('Redis Cluster: stopped and removed');
  return { report: { skipped: null, masters: cluster.nodes.length, logins: loginComparison, endpoints }, pid };
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
  const seeded = await seed(stores, plan.accounts, plan.passwordOnlyAccounts, redirectUri);
  log(`seeded ${plan.accounts} accounts with 2FA and ${plan.passwordOnlyAccounts} without in ${Math.round(nowMs() - t)} ms`);

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
  const ourPid = ours.child.pid!;
  const barePid = bare.child.pid!;

  const ourHttp = new HttpClient(ours.url, 256);
  const bareHttp = new HttpClient(bare.url, 256);
  const twoFactorAccounts = new AccountPool(seeded.accounts);
  const staff = { http: ourHttp, clientId: seeded.staffClient.clientId, secret: seeded.staffClient.secret, redirectUri, scope: 'openid email profile tenant' };
  const twoFactor: LoginTarget = { name: 'sleutel 2FA', ...staff, screens: { accounts: twoFactorAccounts, password: seeded.password, secondFactor: true }, expectedAcr: ACR_TWO_FACTOR };
  const passwordOnly: LoginTarget = { name: 'sleutel password', ...staff, screens: { accounts: new AccountPool(seeded.passwordOnly, false), password: seeded.password, secondFactor: false } };
  const bareTarget: LoginTarget = { name: 'bare', http: bareHttp, clientId: 'bare-code', secret: bareSecret, redirectUri, scope: 'openid email profile' };

  // Warm-up (JIT, connection pools) and the token chains for refresh, userinfo and introspection.
  const chains = Math.max(plan.connections * (2 * plan.endpointRounds + 2), plan.warmupLogins);
  const ourTokens: LoginTokens[] = [];
  const bareTokens: LoginTokens[] = [];
  for (let i = 0; i < chains; i += 1) {
    ourTokens.push(await login(twoFactor));
    bareTokens.push(await login(bareTarget));
    if (i < plan.warmupLogins) await login(passwordOnly);
  }
  await measureArgon2(Math.max(2, plan.argon2Verifies / 10), PASSWORD_HASHING_CONCURRENCY);

  const rssAtRest = rssMb(ourPid);
  // the highest resident size Sleutel reaches under the logins (what a container limit must allow)
  let rssPeakLogins = rssAtRest ?? 0;
  let rssPeak = rssAtRest ?? 0;
  const rssSampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssMb(ourPid) ?? 0)), 100);
  cleanups.push(async () => clearInterval(rssSampler));

  type LoginRun = Awaited<ReturnType<typeof measuredLogins>>;
  const loginRounds: { two_factor: LoginRun; password_only: LoginRun; bare: LoginRun; argon2: Argon2Result }[] = [];
  for (let i = 0; i < plan.loginRounds; i += 1) {
    log(`logins, round ${i + 1} of ${plan.loginRounds}: ${plan.logins} 2FA and ${plan.logins} password-only on Sleutel, ${plan.bareLogins} on bare, ${plan.argon2Verifies} argon2 verifies; ${plan.loginConcurrency} at a time`);
    const two_factor = await phase('logins 2fa', 'sleutel', plan.logins, () => measuredLogins(twoFactor, ourPid, plan.loginConcurrency, plan.logins));
    const password_only = await phase('logins password', 'sleutel', plan.logins, () => measuredLogins(passwordOnly, ourPid, plan.loginConcurrency, plan.logins));
    rssPeakLogins = Math.max(rssPeakLogins, rssPeak);
    const bareRun = await phase('logins bare', 'bare', plan.bareLogins, () => measuredLogins(bareTarget, barePid, plan.loginConcurrency, plan.bareLogins));
    const argon2 = await measureArgon2(plan.argon2Verifies, PASSWORD_HASHING_CONCURRENCY);
    for (const r of [two_factor, password_only, bareRun]) if (r.samples.failed) log(`  ${r.samples.failed} failed: ${r.samples.firstError}`);
    log(`  CPU per login: 2FA ${two_factor.serverCpuMsPerLogin} ms, password ${password_only.serverCpuMsPerLogin} ms, bare ${bareRun.serverCpuMsPerLogin} ms; argon2 verify ${argon2.cpuMsPerVerify} ms`);
    loginRounds.push({ two_factor, password_only, bare: bareRun, argon2 });
  }
  log(`one login at a time, ${plan.serialLogins} of each: server CPU per request`);
  const perRequest = {
    two_factor: await phase('serial 2fa', 'sleutel', plan.serialLogins, () => perRequestCpu(twoFactor, ourPid, plan.serialLogins)),
    password_only: await phase('serial password', 'sleutel', plan.serialLogins, () => perRequestCpu(passwordOnly, ourPid, plan.serialLogins)),
    bare: await phase('serial bare', 'bare', plan.serialLogins, () => perRequestCpu(bareTarget, barePid, plan.serialLogins)),
  };

  const c = plan.connections;
  const run = (name: EndpointName, server: Running, request: CheckedRequest) => async () => {
    await load({ url: server.url, connections: c, amount: plan.warmupRequests, requests: [request] });
    const side = server === ours ? 'sleutel' : 'bare';
    return phase(name, side, plan.requests, () => load({ url: server.url, connections: c, amount: plan.requests, requests: [request], pid: server.child.pid }));
  };
  const requests: Record<EndpointName, [CheckedRequest, CheckedRequest]> = {
    client_credentials: [clientCredentialsRequest(seeded.serviceClient.clientId, seeded.serviceClient.secret, 'manage'), clientCredentialsRequest('bare-service', bareSecret)],
    refresh_token: [
      refreshRequest(seeded.staffClient.clientId, seeded.staffClient.secret, ourTokens.map((x) => x.refresh_token!)),
      refreshRequest('bare-code', bareSecret, bareTokens.map((x) => x.refresh_token!)),
    ],
    userinfo: [userinfoRequest(ourTokens.map((x) => x.access_token)), userinfoRequest(bareTokens.map((x) => x.access_token))],
    introspection: [
      introspectionRequest(seeded.staffClient.clientId, seeded.staffClient.secret, ourTokens.map((x) => x.access_token)),
      introspectionRequest('bare-code', bareSecret, bareTokens.map((x) => x.access_token)),
    ],
  };
  const endpoints = {} as Report['endpoints'];
  for (const name of ENDPOINTS) {
    log(`${name}: ${plan.requests} requests per run, ${c} connections, ${plan.endpointRounds} rounds`);
    const [ourRequest, bareRequest] = requests[name];
    endpoints[name] = await sideBySide(plan.endpointRounds, run(name, ours, ourRequest), run(name, bare, bareRequest));
    log(`  CPU per request: Sleutel ${endpoints[name].ours.cpuMsPerRequest} ms, bare ${endpoints[name].bare.cpuMsPerRequest} ms`);
  }

  const rssAfterLoad = rssMb(ourPid);
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
  const rss = {
    sleutelMb: rssMb(ourPid),
    sleutelPeakLoginsMb: rssPeakLogins,
    sleutelPeakMb: Math.max(rssPeak, rssMb(ourPid) ?? 0),
    sleutelAfterLoadMb: rssAfterLoad,
    sleutelAtRestMb: rssAtRest,
    bareMb: rssMb(barePid),
    ...(await heapOf(ours.url)),
  };
  log(`RSS ${rss.sleutelMb} MB (before the sessions: ${rssAfterLoad} MB); ${sessionsSeen}/${answered} requests found their session`);

  const cluster = await clusterPart({ script: built.sleutel, env: sleutelEnv, nodeArgs: [...sleutelNodeOptions, ...nodeArgs], single: ours, singleTarget: twoFactor, seeded });

  ourHttp.close();
  bareHttp.close();
  await stopProcess(ours.child);
  await stopProcess(bare.child);

  log(`time to ready of npm start on an existing DATA_DIR (embedded), ${plan.readyRuns} runs`);
  const ready = await timeToReady(plan.readyRuns);

  const argon2Cpu = loginRounds.map((r) => r.argon2.cpuMsPerVerify);
  const loginSummary = (kind: LoginKind | 'bare') => {
    const runs = loginRounds.map((r) => r[kind]);
    const cpu = runs.map((r) => r.serverCpuMsPerLogin);
    return {
      server_cpu_ms_per_login: cpu.some((v) => v === null) ? null : round(median(cpu as number[])!, 2),
      round_cpu_ms: cpu,
      logins: runs.reduce((s, r) => s + r.samples.ok, 0),
      failed: runs.reduce((s, r) => s + r.samples.failed, 0),
      driver_cpu_ms_per_login: round(median(runs.map((r) => r.driverCpuMsPerLogin))!, 2),
      per_second: round(median(runs.map((r) => r.perSecond))!),
      steps: runs[runs.length - 1]!.samples.summary(),
      cpu_ms_per_request: perRequest[kind].cpu_ms,
    };
  };
  // (Sleutel's CPU per login − one argon2 verify) over bare's CPU per code login, per round
  const loginRatio = (kind: LoginKind) => {
    const perRound = loginRounds.map((r) => {
      const ourCpu = r[kind].serverCpuMsPerLogin;
      return ourCpu === null ? null : ratio(ourCpu - r.argon2.cpuMsPerVerify, r.bare.serverCpuMsPerLogin);
    });
    return { ratio: perRound.some((v) => v === null) ? null : round(median(perRound as number[])!, 3), round_ratios: perRound };
  };
  const report: Report = {
    started_at: startedAt.toISOString(),
    finished_at: new Date().toISOString(),
    smoke,
    machine: {
      cores: os.availableParallelism(),
      cpu: os.cpus()[0]?.model ?? 'unknown',
      node: process.version,
      load_average_at_start: loadAverage.map((l) => round(l, 2)),
      load_average_at_end: os.loadavg().map((l) => round(l, 2)),
      sleutel_node_options: sleutelNodeOptions.join(' '),
      sleutel_password_hashing_concurrency: PASSWORD_HASHING_CONCURRENCY,
      pids: { sleutel: ourPid, bare: barePid, ...(cluster.pid ? { sleutel_cluster: cluster.pid } : {}) },
    },
    plan,
    argon2: { ...loginRounds[loginRounds.length - 1]!.argon2, cpuMsPerVerify: round(median(argon2Cpu)!, 2), round_cpu_ms: argon2Cpu },
    logins: {
      two_factor: { ...loginSummary('two_factor'), ...loginRatio('two_factor') },
      password_only: { ...loginSummary('password_only'), ...loginRatio('password_only') },
      bare: loginSummary('bare'),
      concurrency: plan.loginConcurrency,
      waits_for_fresh_time_step: twoFactorAccounts.waits,
      serial_failed: Object.values(perRequest).reduce((s, r) => s + r.failed, 0),
    },
    endpoints,
    rss: { ...rss, sessions: plan.sessions, session_write_ms: sessionWriteMs, requests_with_session: sessionsSeen, requests: answered },
    ready: { npm_start_embedded_median_ms: ready.medianMs, runs_ms: ready.runsMs, postgres_redis_first_start_ms: Math.round(ourReadyMs) },
    cluster: cluster.report,
    phases,
  };
  report.failed = report.logins.two_factor.failed + report.logins.password_only.failed + report.logins.bare.failed + report.logins.serial_failed + ENDPOINTS.reduce((s, k) => s + endpoints[k].ours.failed + endpoints[k].bare.failed, 0) + clusterFailed(cluster.report);
  report.targets = TARGETS.map((target) => {
    const value = target.value(report);
    return { target: target.name, value, met: value !== null && target.met(value) };
  });

  fs.mkdirSync(path.dirname(output), { recursive: true });
  fs.writeFileSync(output, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${formatTable(report)}\n\nJSON: ${path.relative(process.cwd(), output)}\n`);
}

function clusterFailed(cluster: ClusterReport): number {
  if (cluster.skipped !== null) return 0;
  return [cluster.logins, ...CLUSTER_ENDPOINTS.map((k) => cluster.endpoints[k])].reduce((s, c) => s + c.cluster.failed + c.single.failed, 0);
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
