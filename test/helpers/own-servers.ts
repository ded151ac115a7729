import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports.js';

/**
 * A Redis and a PostgreSQL of a test's own, on spare loopback ports, that the test may stop and
 * start again (the outage tests). They need Debian's redis-server and postgresql binaries.
 */
export { freePort };

const pgBin = (() => {
  try {
    const version = fs.readdirSync('/usr/lib/postgresql').sort().at(-1);
    return version ? `/usr/lib/postgresql/${version}/bin` : undefined;
  } catch {
    return undefined;
  }
})();

export const haveRedisServer = fs.existsSync('/usr/bin/redis-server');
export const havePostgresServer = Boolean(pgBin && fs.existsSync(`${pgBin}/initdb`) && fs.existsSync('/usr/sbin/runuser'));

async function waitForPort(port: number, up: boolean, seconds = 20): Promise<void> {
  for (let i = 0; i < seconds * 10; i += 1) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open === up) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`port ${port} did not go ${up ? 'up' : 'down'}`);
}

export class OwnRedis {
  private child?: ChildProcess;
  constructor(readonly port: number) {}

  static async start(): Promise<OwnRedis> {
    const redis = new OwnRedis(await freePort());
    await redis.up();
    return redis;
  }

  get url() {
    return `redis://127.0.0.1:${this.port}`;
  }

  async up(): Promise<void> {
    this.child = spawn('/usr/bin/redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await waitForPort(this.port, true);
  }

  async down(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    await waitForPort(this.port, false);
  }
}

export class OwnPostgres {
  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(): Promise<OwnPostgres> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sleutel-pg-'));
    fs.chmodSync(dir, 0o777);
    const data = path.join(dir, 'data');
    const asPostgres = (cmd: string, args: string[]) => execFileSync('/usr/sbin/runuser', ['-u', 'postgres', '--', `${pgBin}/${cmd}`, ...args], { stdio: 'ignore' });
    asPostgres('initdb', ['-D', data, '--auth=trust', '--username=postgres']);
    const pg = new OwnPostgres(await freePort(), dir);
    pg.run = asPostgres;
    await pg.up();
    return pg;
  }

  private run!: (cmd: string, args: string[]) => void;

  get url() {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  async up(): Promise<void> {
    this.run('pg_ctl', ['-D', path.join(this.dir, 'data'), '-o', `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1`, '-l', path.join(this.dir, 'log'), '-w', 'start']);
    await waitForPort(this.port, true);
  }

  async down(): Promise<void> {
    this.run('pg_ctl', ['-D', path.join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop']);
    await waitForPort(this.port, false);
  }

  async destroy(): Promise<void> {
    try {
      await this.down();
    } catch {
      /* already down */
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
