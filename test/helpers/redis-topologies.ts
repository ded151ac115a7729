import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePortPair as freeRedisPort } from '../../bench/lib/redis-cluster.js';
import type { RedisTopology } from '../../src/config/environment.js';

/**
 * A Redis Cluster (3 masters) and a Sentinel set (master + replica + 1 sentinel) of a test's own,
 * from Debian's redis-server / redis-sentinel / redis-cli, on spare loopback ports, in temp dirs.
 * The Sentinel set has no persistence: what survives a failover is what was replicated, as in
 * production. The Cluster has no replicas, so its masters keep an append-only file fsynced on every
 * write (as a Cluster without replicas must): a master that crashes and restarts keeps its keys.
 */
const BINARIES = ['/usr/bin/redis-server', '/usr/bin/redis-sentinel', '/usr/bin/redis-cli'];
export const missingRedisBinaries = BINARIES.filter((b) => !fs.existsSync(b));
export const haveRedisTopologies = missingRedisBinaries.length === 0;
export const redisTopologiesSkipReason = `${missingRedisBinaries.join(', ')} missing (apt-get install redis-server redis-sentinel redis-tools): Redis Cluster and Sentinel tests skipped`;

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function redisCli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('/usr/bin/redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 120_000 });
  return stdout.trim();
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, seconds = 30): Promise<T> {
  let last: unknown;
  for (let i = 0; i < seconds * 10; i += 1) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await sleep(100);
  }
  throw new Error(`${what} did not happen within ${seconds} s${last ? `: ${String(last)}` : ''}`);
}

/** One redis-server (or sentinel) process, restartable with the same port and directory. */
export class RedisProcess {
  private child?: ChildProcess;
  constructor(
    readonly port: number,
    readonly dir: string,
    private readonly args: () => string[],
    private readonly binary = '/usr/bin/redis-server',
  ) {
    fs.mkdirSync(dir, { recursive: true });
  }

  async up(): Promise<void> {
    this.child = spawn(this.binary, this.args(), { cwd: this.dir, stdio: 'ignore' });
    await until(`redis on ${this.port} answering`, async () => (await redisCli(this.port, 'ping')) === 'PONG');
  }

  /** SIGKILL: a crash, nothing flushed. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  cli(...args: string[]) {
    return redisCli(this.port, ...args);
  }

  async info(section: string): Promise<Record<string, string>> {
    const text = await this.cli('info', section);
    return Object.fromEntries(text.split(/\r?\n/).filter((l) => l.includes(':')).map((l) => l.split(/:(.*)/s).slice(0, 2) as [string, string]));
  }
}

const common = (port: number) => ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'];

export class RedisClusterSet {
  private constructor(
    readonly nodes: RedisProcess[],
    private readonly root: string,
  ) {}

  static async start(masters = 3): Promise<RedisClusterSet> {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sleutel-redis-cluster-'));
    const taken = new Set<number>();
    const nodes: RedisProcess[] = [];
    for (let i = 0; i < masters; i += 1) {
      const port = await freeRedisPort(taken);
      const args = () => [...common(port), '--appendonly', 'yes', '--appendfsync', 'always', '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '3000'];
      nodes.push(new RedisProcess(port, path.join(root, String(port)), args));
    }
    const set = new RedisClusterSet(nodes, root);
    try {
      await Promise.all(nodes.map((n) => n.up()));
      await run('/usr/bin/redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], { timeout: 60_000 });
      await set.settled();
    } catch (error) {
      await set.stop();
      throw error;
    }
    return set;
  }

  get topology(): RedisTopology {
    return { kind: 'cluster', nodes: this.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })), tls: false };
  }

  /** As an operator writes it: REDIS_CLUSTER_NODES. */
  get env(): Record<string, string> {
    return { REDIS_CLUSTER_NODES: this.nodes.map((n) => `127.0.0.1:${n.port}`).join(',') };
  }

  /** Every node reports cluster_state:ok and agrees on all 16384 slots. */
  async settled(): Promise<void> {
    await until('cluster state ok on every node', async () => {
      for (const node of this.nodes) {
        const info = await node.cli('cluster', 'info');
        if (!/cluster_state:ok/.test(info) || !/cluster_slots_assigned:16384/.test(info)) return false;
      }
      return true;
    });
  }

  nodeId(node: RedisProcess): Promise<string> {
    return node.cli('cluster', 'myid');
  }

  /** `redis-cli --cluster reshard`: moves `slots` slots (and their keys) from one master to another. */
  async reshard(from: RedisProcess, to: RedisProcess, slots: number): Promise<void> {
    const [fromId, toId] = await Promise.all([this.nodeId(from), this.nodeId(to)]);
    await run(
      '/usr/bin/redis-cli',
      ['--cluster', 'reshard', `127.0.0.1:${from.port}`, '--cluster-from', fromId, '--cluster-to', toId, '--cluster-slots', String(slots), '--cluster-yes', '--cluster-pipeline', '10'],
      { timeout: 120_000 },
    );
    await this.settled();
  }

  /** The master serving `key`'s slot (the others answer MOVED). */
  async holder(key: string): Promise<RedisProcess> {
    for (const node of this.nodes) if (/^[01]$/.test(await node.cli('exists', key))) return node;
    throw new Error(`no master serves ${key}`);
  }

  /**
   * A crash (SIGKILL) of one master, `whileDown` run while it is gone, then the same server started
   * again on its port and directory: it reads its append-only file and nodes.conf and takes its
   * slots back. Returns once every node reports the Cluster ok again.
   */
  async restart(node: RedisProcess, whileDown: () => Promise<void> = async () => {}): Promise<void> {
    await node.kill();
    await whileDown();
    await node.up();
    await this.settled();
  }

  /** Keys of every master matching `pattern` (SCAN on each: a Cluster's keyspace is split). */
  async keys(pattern: string): Promise<string[]> {
    const all: string[] = [];
    for (const node of this.nodes) {
      let cursor = '0';
      do {
        const [next, ...found] = (await node.cli('scan', cursor, 'match', pattern, 'count', '1000')).split(/\r?\n/);
        all.push(...found.filter(Boolean));
        cursor = next!;
      } while (cursor !== '0');
    }
    return all;
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill()));
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

export const SENTINEL_MASTER = 'sleutel';

export class RedisSentinelSet {
  private constructor(
    /** [first master, first replica]; which is master changes with a failover */
    readonly servers: RedisProcess[],
    readonly sentinel: RedisProcess,
    private readonly root: string,
  ) {}

  static async start(): Promise<RedisSentinelSet> {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sleutel-redis-sentinel-'));
    const taken = new Set<number>();
    const [masterPort, replicaPort, sentinelPort] = [await freeRedisPort(taken), await freeRedisPort(taken), await freeRedisPort(taken)];
    const master = new RedisProcess(masterPort, path.join(root, 'a'), () => common(masterPort));
    const replica = new RedisProcess(replicaPort, path.join(root, 'b'), () => [...common(replicaPort), '--replicaof', '127.0.0.1', String(masterPort)]);
    const sentinelDir = path.join(root, 'sentinel');
    const sentinel = new RedisProcess(sentinelPort, sentinelDir, () => [path.join(sentinelDir, 'sentinel.conf')], '/usr/bin/redis-sentinel');
    fs.writeFileSync(
      path.join(sentinelDir, 'sentinel.conf'),
      [
        `port ${sentinelPort}`,
        'bind 127.0.0.1',
        `dir ${sentinelDir}`,
        `sentinel monitor ${SENTINEL_MASTER} 127.0.0.1 ${masterPort} 1`,
        `sentinel down-after-milliseconds ${SENTINEL_MASTER} 1000`,
        `sentinel failover-timeout ${SENTINEL_MASTER} 10000`,
        `sentinel parallel-syncs ${SENTINEL_MASTER} 1`,
        '',
      ].join('\n'),
    );
    const set = new RedisSentinelSet([master, replica], sentinel, root);
    try {
      await master.up();
      await replica.up();
      await until('replica in sync', async () => (await replica.info('replication')).master_link_status === 'up');
      await sentinel.up();
      await until('sentinel sees the replica', async () => Number((await sentinel.info('sentinel')).master0?.match(/slaves=(\d+)/)?.[1]) >= 1);
    } catch (error) {
      await set.stop();
      throw error;
    }
    return set;
  }

  get topology(): RedisTopology {
    return { kind: 'sentinel', sentinels: [{ host: '127.0.0.1', port: this.sentinel.port }], masterName: SENTINEL_MASTER, tls: false };
  }

  get env(): Record<string, string> {
    return { REDIS_SENTINELS: `127.0.0.1:${this.sentinel.port}`, REDIS_SENTINEL_MASTER: SENTINEL_MASTER };
  }

  /** The port the sentinel names as master now. */
  async masterPort(): Promise<number> {
    const [, port] = (await this.sentinel.cli('sentinel', 'get-master-addr-by-name', SENTINEL_MASTER)).split(/\r?\n/);
    return Number(port);
  }

  async master(): Promise<RedisProcess> {
    const port = await this.masterPort();
    return this.servers.find((s) => s.port === port)!;
  }

  /**
   * Waits until every replica has received everything the master acknowledged (the test's stand-in
   * for WAIT): replication is asynchronous, and only replicated writes survive a failover.
   */
  async replicated(): Promise<void> {
    const master = await this.master();
    const replicas = this.servers.filter((s) => s !== master);
    await until('replicas caught up', async () => {
      const offset = Number((await master.info('replication')).master_repl_offset);
      for (const replica of replicas) {
        const info = await replica.info('replication');
        if (info.master_link_status !== 'up' || Number(info.slave_repl_offset) < offset) return false;
      }
      return true;
    });
  }

  /** Waits until the sentinel names another master than `before`, and that server says it is master. */
  async promotedFrom(before: number, seconds = 30): Promise<RedisProcess> {
    const port = await until('a new master', async () => {
      const now = await this.masterPort();
      return now !== before && now;
    }, seconds);
    const promoted = this.servers.find((s) => s.port === port)!;
    await until('the promoted server acting as master', async () => (await promoted.info('replication')).role === 'master');
    return promoted;
  }

  async stop(): Promise<void> {
    await Promise.all([this.sentinel, ...this.servers].map((s) => s.kill()));
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}
