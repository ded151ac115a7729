import { afterAll, describe, expect, test } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { CLUSTER_ENDPOINTS, CLUSTER_METRICS, ENDPOINTS, METRICS, TARGETS, type Report } from '../../bench/lib/report.js';
import { STEPS } from '../../bench/lib/logins.js';

/**
 * `npm run bench` on a tiny load (BENCH_SMOKE=1), to keep the benchmark working. It needs a
 * Postgres and a Redis: DATABASE_URL and REDIS_URL, or the bench's defaults on 127.0.0.1. Only
 * that every metric and every target is reported is checked, never a number: CPU times and
 * ratios belong to the benchmark.
 */
const databaseUrl = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

async function reachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 2000 });
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2000, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await client.connect();
    await redis.connect();
    await redis.ping();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
    redis.disconnect();
  }
}

// the bench starts a Redis Cluster of its own when these are installed, and says why not otherwise
const redisBinaries = ['redis-server', 'redis-cli'].every((name) => [...(process.env.PATH ?? '').split(':'), '/usr/bin', '/usr/sbin'].some((dir) => fs.existsSync(path.join(dir, name))));

const available = await reachable();
if (!available) console.warn(`bench smoke test skipped: no Postgres at ${databaseUrl} or no Redis at ${redisUrl}`);

(available ? describe : describe.skip)('npm run bench (smoke run, needs Postgres and Redis)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sleutel-bench-smoke-'));
  const output = path.join(dir, 'result.json');
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGINT'); // the bench cleans up after itself
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('prints the table and writes every metric as JSON', async () => {
    const stdout: string[] = [];
    const stderr: string[] = [];
    child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts'], {
      env: { ...process.env, NODE_OPTIONS: '', TMPDIR: dir, BENCH_SMOKE: '1', BENCH_OUTPUT: output, DATABASE_URL: databaseUrl, REDIS_URL: redisUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => stdout.push(d.toString()));
    child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
    const code = await new Promise<number | null>((resolve) => child!.on('exit', resolve));
    if (code !== 0) throw new Error(`bench exited with ${code}:\n${stderr.join('').slice(-3000)}`);

    const table = stdout.join('');
    for (const metric of METRICS) expect(table).toContain(`| ${metric} `);

    const report = JSON.parse(fs.readFileSync(output, 'utf8')) as Report;
    expect(report.smoke).toBe(true);
    // Sleutel runs with the Docker image's node options, read from the Dockerfile
    expect(fs.readFileSync('Dockerfile', 'utf8')).toContain(`ENV NODE_OPTIONS=${report.machine.sleutel_node_options}\n`);
    expect(report.machine.sleutel_node_options).toMatch(/^--max-old-space-size=\d+$/);
    expect(report.machine.sleutel_password_hashing_concurrency).toBeGreaterThanOrEqual(1);
    const isNumber = expect.any(Number);
    expect(report.argon2).toMatchObject({ binding: '@node-rs/argon2', cpuMsPerVerify: isNumber, perSecond: isNumber });
    for (const kind of ['two_factor', 'password_only'] as const) {
      expect(report.logins[kind]).toMatchObject({ server_cpu_ms_per_login: isNumber, ratio: isNumber, driver_cpu_ms_per_login: isNumber, per_second: isNumber });
      for (const step of STEPS.filter((s) => kind === 'two_factor' || !s.startsWith('code'))) expect(report.logins[kind].steps[step]).toMatchObject({ p50: isNumber, p99: isNumber });
      expect(report.logins[kind].cpu_ms_per_request['POST password']).toEqual(isNumber);
    }
    expect(report.logins.two_factor.cpu_ms_per_request['POST code']).toEqual(isNumber);
    expect(report.logins.bare).toMatchObject({ server_cpu_ms_per_login: isNumber, driver_cpu_ms_per_login: isNumber, per_second: isNumber });
    expect(report.logins.bare.cpu_ms_per_request['POST /token (code)']).toEqual(isNumber);
    for (const endpoint of ENDPOINTS) {
      const e = report.endpoints[endpoint];
      for (const side of [e.ours, e.bare]) expect(side).toMatchObject({ cpuMsPerRequest: isNumber, requests: isNumber, perSecond: isNumber });
      expect(e.cpu_ratio).toEqual(isNumber);
    }
    expect(report.rss).toMatchObject({ sleutelMb: isNumber, sleutelPeakLoginsMb: isNumber, sleutelPeakMb: isNumber, sleutelAfterLoadMb: isNumber, sleutelAtRestMb: isNumber, bareMb: isNumber });
    expect(report.failed).toEqual(isNumber);
    expect(report.ready.npm_start_embedded_median_ms).toEqual(isNumber);
    // every target is reported with a value (whether it is met is the benchmark's business)
    expect(report.targets?.map((t) => t.target)).toEqual(TARGETS.map((t) => t.name));
    for (const target of report.targets ?? []) expect(target.value).toEqual(isNumber);
    // the phases a CPU profile is broken down by
    expect(report.phases.map((p) => p.name)).toEqual(expect.arrayContaining(['logins 2fa', 'logins password', 'logins bare', ...ENDPOINTS]));

    // the Cluster part: measured when redis-server and redis-cli are there, else skipped with its reason
    const cluster = report.cluster!;
    if (!redisBinaries) {
      expect(cluster.skipped).toEqual(expect.stringContaining('not found'));
      expect(table).toContain(`Redis Cluster: skipped (${cluster.skipped})`);
      return;
    }
    if (cluster.skipped !== null) throw new Error(`the Cluster part was skipped: ${cluster.skipped}`);
    for (const metric of CLUSTER_METRICS) expect(table).toContain(`| ${metric} `);
    expect(cluster.masters).toBe(3);
    const clusterSide = { cpu_ms: isNumber, round_cpu_ms: [isNumber], operations: isNumber, failed: isNumber, per_second: isNumber };
    for (const comparison of [cluster.logins, ...CLUSTER_ENDPOINTS.map((k) => cluster.endpoints[k])]) {
      expect(comparison).toMatchObject({ cluster: clusterSide, single: clusterSide, cpu_ratio: isNumber, round_ratios: [isNumber], throughput_ratio: isNumber });
    }
    expect(report.machine.pids?.sleutel_cluster).toEqual(isNumber);
    expect(report.phases.map((p) => p.name)).toEqual(expect.arrayContaining(['cluster logins 2fa', 'single redis logins 2fa', ...CLUSTER_ENDPOINTS.map((k) => `cluster ${k}`)]));
    // the Cluster was stopped and its temp dir (under the TMPDIR given to the bench) removed
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('sleutel-bench-cluster-'))).toEqual([]);
  }, 300_000);
});
