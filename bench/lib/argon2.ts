import { verify } from '@node-rs/argon2';
import { hashPassword } from '../../src/factors/password.js';
import { nowMs, round } from './stats.js';

/**
 * The reference for the hash: CPU time of one argon2id verify at Sleutel's parameters
 * (src/factors/password.ts, the binding Sleutel uses), counted over a fixed number of verifies in
 * this process (all threads) while it does nothing else. `concurrency` at once: Sleutel's own
 * limit (PASSWORD_HASHING_CONCURRENCY), so the verifies run as they do in the server.
 */
export interface Argon2Result {
  binding: string;
  verifies: number;
  concurrency: number;
  cpuMsPerVerify: number;
  /** for information: verifies per second at that concurrency (moves with the host) */
  perSecond: number;
}

const password = 'correct horse battery staple';
let hash: string | undefined;

export async function measureArgon2(verifies: number, concurrency: number): Promise<Argon2Result> {
  hash ??= await hashPassword(password);
  if (!(await verify(hash, password))) throw new Error('@node-rs/argon2 does not verify our hash');
  let started = 0;
  const begun = nowMs();
  const cpu = process.cpuUsage();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started < verifies) {
        started += 1;
        if (!(await verify(hash!, password))) throw new Error('argon2 verify failed');
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return {
    binding: '@node-rs/argon2',
    verifies,
    concurrency,
    cpuMsPerVerify: round((used.user + used.system) / 1000 / verifies, 2),
    perSecond: round(verifies / ((nowMs() - begun) / 1000)),
  };
}
