import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nowMs, sleep } from './stats.js';

/** The repository: scripts are started from there, whatever the caller's directory. */
export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface Running {
  name: string;
  url: string;
  child: ChildProcess;
  output: string[];
}

export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });

/**
 * Starts `node [nodeArgs] <script>` (a TypeScript script through tsx) with exactly this
 * environment (plus PATH and HOME).
 */
export function startNode(name: string, script: string, port: number, env: Record<string, string>, nodeArgs: string[] = []): Running {
  const output: string[] = [];
  const child = spawn(process.execPath, [...nodeArgs, ...(script.endsWith('.ts') ? ['--import', 'tsx'] : []), script], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (d: Buffer) => {
    output.push(d.toString());
    if (output.length > 200) output.splice(0, output.length - 200);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return { name, url: `http://127.0.0.1:${port}`, child, output };
}

/** Polls GET {url}/readyz until 200; returns the milliseconds it took from `since`. */
export async function waitReady(url: string, child: ChildProcess, output: string[], since = nowMs(), timeoutMs = 60_000, intervalMs = 25): Promise<number> {
  while (nowMs() - since < timeoutMs) {
    const ok = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return nowMs() - since;
    if (child.exitCode !== null) throw new Error(`${url} exited (${child.exitCode}) before it was ready:\n${output.join('')}`);
    await sleep(intervalMs);
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms:\n${output.join('')}`);
}

/** Resident set size of a process in MB, from /proc/<pid>/status (Linux). */
export function rssMb(pid: number): number | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kb ? Math.round(Number(kb) / 102.4) / 10 : null;
  } catch {
    return null;
  }
}

/** SIGTERM (to the process group when `group`), then SIGKILL after `graceMs`. */
export async function stopProcess(child: ChildProcess, group = false, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = (s: NodeJS.Signals) => {
    try {
      if (group) process.kill(-child.pid!, s);
      else child.kill(s);
    } catch {
      /* already gone */
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** CPU time (user + system) a process has used so far, in milliseconds, from /proc/<pid>/stat. */
export function cpuMs(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the command name (which may hold spaces) start at field 3
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
    return (ticks * 1000) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

// USER_HZ: 100 on every Linux that matters (getconf CLK_TCK)
const CLOCK_TICKS = 100;
