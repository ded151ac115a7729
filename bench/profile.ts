/**
 * Breaks the CPU profiles of a bench run down: `node --import tsx bench/profile.ts <dir> [report.json]`
 * after `BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=<dir>" npm run bench`. For each server's
 * profile (the main thread, where all JavaScript runs; argon2's threads are not in it) and each
 * phase of the run (the report's `phases`), the sampled time is attributed to the nearest frame that
 * belongs to a library or to our own source (node's internals are charged to whoever called them),
 * in milliseconds per operation of the phase and as a share. A third argument (an owner such as
 * `ioredis` or `src/factors/password.ts`) lists that owner's share by function instead.
 */
import fs from 'node:fs';
import path from 'node:path';
import { root } from './lib/processes.js';
import type { Report } from './lib/report.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** What a frame's cost counts as: a library (its package name), one of our files, or V8 itself. */
function owner(node: ProfileNode): string | undefined {
  const { url, functionName } = node.callFrame;
  if (!url) return ['(garbage collector)', '(program)', '(idle)'].includes(functionName) ? functionName : undefined;
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const ours = /\/(src|bench)\/(.*)\.js$/.exec(url.replace('/bench/.build/', '/'));
  if (ours) return `${ours[1]}/${ours[2]}.ts`;
  return undefined; // node:internal and the like: charged to the caller
}

/** `detail`: for samples charged to that owner, the key is the charged frame's function and place instead */
function breakDown(profile: Profile, windows: { start_us: number; end_us: number }[], detail?: string): Map<string, number> {
  const parent = new Map<number, number>();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const cache = new Map<number, string>();
  const charge = (id: number): string => {
    const known = cache.get(id);
    if (known) return known;
    let at: number | undefined = id;
    let result = 'node internals';
    while (at !== undefined) {
      const node = byId.get(at)!;
      const o = owner(node);
      if (o) {
        const { functionName, url, lineNumber } = node.callFrame;
        result = o === detail ? `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}` : o;
        break;
      }
      at = parent.get(at);
    }
    cache.set(id, result);
    return result;
  };
  const totals = new Map<string, number>();
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i += 1) {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (!windows.some((w) => t >= w.start_us && t < w.end_us)) continue;
    const key = charge(profile.samples[i]!);
    if (key === '(idle)') continue;
    totals.set(key, (totals.get(key) ?? 0) + delta / 1000);
  }
  return totals;
}

function main(): void {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: node --import tsx bench/profile.ts <cpu-prof-dir> [report.json] [owner to detail by function, e.g. ioredis]');
  const report = JSON.parse(fs.readFileSync(process.argv[3] ?? path.join(root, 'bench/results/latest.json'), 'utf8')) as Report;
  const detail = process.argv[4];
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  const servers = Object.entries(report.machine.pids ?? {});
  for (const [server, pid] of servers) {
    const file = files.find((f) => f.split('.')[3] === String(pid));
    if (!file) {
      process.stdout.write(`${server}: no profile of pid ${pid} in ${dir}\n`);
      continue;
    }
    const profile = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as Profile;
    const names = [...new Set(report.phases.filter((p) => p.server === server).map((p) => p.name))];
    for (const name of names) {
      const windows = report.phases.filter((p) => p.server === server && p.name === name);
      const operations = windows.reduce((s, w) => s + w.operations, 0);
      const totals = [...breakDown(profile, windows, detail)].sort((a, b) => b[1] - a[1]);
      const sum = totals.reduce((s, [, ms]) => s + ms, 0);
      process.stdout.write(`\n${server}, ${name}: main thread ${(sum / operations).toFixed(2)} ms per operation (${operations} operations)\n`);
      for (const [key, ms] of totals) {
        if (ms / sum < 0.005) continue;
        process.stdout.write(`  ${(ms / operations).toFixed(3).padStart(8)} ms  ${((ms / sum) * 100).toFixed(1).padStart(5)} %  ${key}\n`);
      }
    }
  }
}

main();
