import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { sleep } from './stats.js';

/**
 * A 3-master Redis Cluster of the bench's own, from Debian's redis-server and redis-cli, on spare
 * loopback ports, in a temp dir, without persistence (as test/helpers/redis-topologies.ts starts
 * one for the tests; bench/ does not import from test/).
 */
const execFileAsync = promisify(execFile);

/** Where the binaries are, or why the Cluster part of the bench cannot run. */
export function redisClusterBinaries(): { server: string; cli: string } | { missing: string } {
  const find = (name: string) => [...(process.env.PATH ?? '').split(':'), '/usr/bin', '/usr/sbin'].map((dir) => path.join(dir, name)).find((file) => fs.existsSync(file));
  const server = find('redis-server');
  const cli = find('redis-cli');
  if (server && cli) return { server, cli };
  const missing = [server ? '' : 'redis-server', cli ? '' : 'redis-cli'].filter(Boolean).join(' and ');
  return { missing: `${missing} not found (apt-get install redis-server redis-tools)` };
}

const listenable = (port: number) =>
  new Promise<boolean>((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });

/** A port below the ephemeral range whose cluster bus port (+10000) is free too (the tests' Redis sets use it as well). */
export async function freePortPair(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    if (taken.has(port) || taken.has(port + 10000)) continue;
    if ((await listenable(port)) && (await listenable(port + 10000))) {
      taken.add(port).add(port + 10000);
      return port;
    }
  }
}

export interface RedisCluster {
  /** host:port of each master, as REDIS_CLUSTER_NODES takes them */
  nodes: string[];
  stop(): Promise<void>;
}

export async function startRedisCluster(binaries: { server: string; cli: string }, masters = 3): Promise<RedisCluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sleutel-bench-cluster-'));
  const children: ChildProcess[] = [];
  const cli = (port: number, ...args: string[]) => execFileAsync(binaries.cli, ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 60_000 }).then((r) => r.stdout.trim());
  const stop = async () => {
    await Promise.all(
      children.map((child) => {
        if (child.exitCode !== null || child.signalCode !== null) return undefined;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL'); // nothing to flush: no persistence
        return exited;
      }),
    );
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const until = async (what: string, probe: () => Promise<boolean>) => {
    for (let i = 0; i < 300; i += 1) {
      if (await probe().catch(() => false)) return;
      await sleep(100);
    }
    throw new Error(`Redis Cluster: ${what} did not happen within 30 s`);
  };
  try {
    const taken = new Set<number>();
    const ports: number[] = [];
    for (let i = 0; i < masters; i += 1) ports.push(await freePortPair(taken));
    for (const port of ports) {
      const nodeDir = path.join(dir, String(port));
      fs.mkdirSync(nodeDir);
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '3000'];
      children.push(spawn(binaries.server, args, { cwd: nodeDir, stdio: 'ignore' }));
    }
    for (const port of ports) await until(`node ${port} answering`, async () => (await cli(port, 'ping')) === 'PONG');
    const nodes = ports.map((port) => `127.0.0.1:${port}`);
    await execFileAsync(binaries.cli, ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes'], { timeout: 60_000 });
    await until('cluster_state:ok on every node', async () => {
      const infos = await Promise.all(ports.map((port) => cli(port, 'cluster', 'info')));
      return infos.every((info) => /cluster_state:ok/.test(info) && /cluster_slots_assigned:16384/.test(info));
    });
    return { nodes, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
