import os from 'node:os';
import { hash, verify, type Options } from '@node-rs/argon2';
import pLimit from 'p-limit';

/**
 * The password factor: argon2id at OWASP's minimum (m=19 MiB, t=2, p=1). @node-rs/argon2 writes
 * the same PHC strings as node-argon2, needs no native build, and measured about twice as fast here.
 * This module is the only place that knows the hashing libraries: argon2id for every hash it
 * makes, and bcrypt only to verify hashes imported from Econobis (Laravel, `$2y$`) until the
 * account's first successful login replaces them (needsRehash).
 */
// algorithm 2 is Argon2id (the library's const enum cannot be imported under verbatimModuleSyntax)
export const ARGON2_PARAMS: Options = { algorithm: 2 as Options['algorithm'], memoryCost: 19456, timeCost: 2, parallelism: 1 };
const CURRENT_PREFIX = '$argon2id$v=19$m=19456,t=2,p=1$';

/** NIST 800-63B: allow at least 64; refuse absurd lengths before spending a hash on them. */
export const MAX_PASSWORD_LENGTH = 256;

/**
 * As many argon2 computations at once as there are CPUs less one (at least one). Each takes a core
 * for 10-15 ms and 19 MiB; libuv would run four at once and leave the event loop, and with it every
 * token, userinfo and screen request, fighting them for the cores. Measured on 2 cores (README,
 * Performance): logins alone as fast as before; during a rush of logins, `client_credentials`
 * answered 20-60 % more and logins were up to a tenth slower; highest RSS 220 -> 165 MB.
 * The CPUs are os.availableParallelism(): a CPU set, and from libuv 1.49 (Node 22) a container's
 * CPU quota too (libuv issue 4740).
 */
export const PASSWORD_HASHING_CONCURRENCY = Math.max(1, os.availableParallelism() - 1);
const argon2Slot = pLimit(PASSWORD_HASHING_CONCURRENCY);

/** Password hashes being computed and waiting for a turn (to watch the limit above). */
export function passwordHashingLoad(): { running: number; waiting: number } {
  return { running: argon2Slot.activeCount, waiting: argon2Slot.pendingCount };
}

export function hashPassword(password: string): Promise<string> {
  return argon2Slot(() => hash(password, ARGON2_PARAMS));
}

// Verified against when the e-mail is unknown, so both answers take the time of one argon2 verify.
let dummyHash: Promise<string> | undefined;

// Laravel writes `$2y$` (cost 10 by default); PHP's 2y and OpenBSD's 2b compute the same hash.
// Costs above 12 are refused: each step doubles the work, and a planted `$2y$31$` would tie up a
// login for days.
const BCRYPT_HASH = /^\$2[aby]\$(0[4-9]|1[0-2])\$[./A-Za-z0-9]{53}$/;

/** A bcrypt hash as Laravel stores it: accepted from an import, verified, and replaced at the next login. */
export function isBcryptHash(storedHash: string): boolean {
  return BCRYPT_HASH.test(storedHash);
}

/**
 * Checks a password against a stored hash. With no hash (unknown account, or one without a
 * password yet) it still spends one verify, so timing does not reveal whether the account exists.
 */
export async function verifyPassword(storedHash: string | null | undefined, password: string): Promise<boolean> {
  if (!storedHash) {
    dummyHash ??= hashPassword('sleutel-timing-equaliser');
    const hashed = await dummyHash;
    await argon2Slot(() => verify(hashed, password)).catch(() => false);
    return false;
  }
  if (isBcryptHash(storedHash)) {
    const { default: bcrypt } = await import('bcryptjs'); // only while imported hashes remain
    return bcrypt.compare(password, storedHash.replace(/^\$2y\$/, '$2b$')).catch(() => false);
  }
  if (!storedHash.startsWith('$argon2')) return false;
  return argon2Slot(() => verify(storedHash, password)).catch(() => false);
}

/** True when the hash should be replaced at the next successful login (older parameters, or bcrypt). */
export function needsRehash(storedHash: string): boolean {
  return !storedHash.startsWith(CURRENT_PREFIX);
}
