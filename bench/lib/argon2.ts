import os from 'node:os';
import { verify as nodeRsVerify } from '@node-rs/argon2';
import { hashPassword } from '../../src/factors/password.js';
import { nowMs, round } from './stats.js';

/**
 * argon2id verifies per second at Sleutel's parameters (src/factors/password.ts) with all cores
 * busy: the physical limit of password logins on this machine. Run while the servers are idle.
 * The binding is called directly: Sleutel itself leaves a core to its event loop
 * (PASSWORD_HASHING_CONCURRENCY), which is a choice, not the machine's limit.
 */
async function rate(verify: () => Promise<unknown>, concurrency: number, seconds: number) {
  let done = 0;
  const started = nowMs();
  const cpu = process.cpuUsage();
  const until = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (nowMs() < until) {
        await verify();
        done += 1;
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return { perSecond: done / ((nowMs() - started) / 1000), cpuMsPerVerify: (used.user + used.system) / 1000 / done };
}

export interface Argon2Result {
  binding: string;
  perSecond: number | null;
  concurrency: number | null;
  /** CPU time of one verify (all threads of this process) */
  cpuMsPerVerify: number | null;
  note?: string;
}

/** The best of `concurrency` = cores and = 4 (libuv's default thread pool, which the server uses). */
async function best(verify: () => Promise<unknown>, seconds: number) {
  const cores = os.availableParallelism();
  const levels = [...new Set([cores, 4])];
  let top = { perSecond: 0, cpuMsPerVerify: 0, concurrency: cores };
  for (const c of levels) {
    const r = await rate(verify, c, seconds);
    if (r.perSecond > top.perSecond) top = { ...r, concurrency: c };
  }
  return { perSecond: round(top.perSecond), cpuMsPerVerify: round(top.cpuMsPerVerify, 2), concurrency: top.concurrency };
}

export async function measureArgon2(seconds: number): Promise<Argon2Result[]> {
  const password = 'correct horse battery staple';
  const hash = await hashPassword(password);
  const results: Argon2Result[] = [];
  // warm-up, then @node-rs/argon2 on the hash Sleutel makes
  if (!(await nodeRsVerify(hash, password))) throw new Error('@node-rs/argon2 does not verify our hash');
  results.push({ binding: '@node-rs/argon2', ...(await best(() => nodeRsVerify(hash, password), seconds)) });

  // node-argon2, only if it happens to be installed (it is not a dependency)
  const moduleName = 'argon2';
  const nodeArgon2 = (await import(moduleName).catch(() => undefined)) as { default?: { verify(h: string, p: string): Promise<boolean> }; verify?(h: string, p: string): Promise<boolean> } | undefined;
  const verify = nodeArgon2?.verify ?? nodeArgon2?.default?.verify;
  if (verify) {
    if (!(await verify(hash, password))) throw new Error('node-argon2 does not verify our hash');
    results.push({ binding: 'argon2 (node-argon2)', ...(await best(() => verify(hash, password), seconds)) });
  } else {
    results.push({ binding: 'argon2 (node-argon2)', perSecond: null, concurrency: null, cpuMsPerVerify: null, note: 'not installed' });
  }
  return results;
}
