import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The recovery code (docs/rules.md, rule 8 and § Security bar): 100 random bits as 20 base32
 * characters in groups of five, shown once, stored only as a SHA-256 hash (enough for a random
 * 100-bit value; a slow hash protects guessable secrets, which this is not), compared in constant
 * time.
 */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function newRecoveryCode(): string {
  const bytes = randomBytes(20);
  const chars = [...bytes].map((b) => ALPHABET[b & 31]).join(''); // 20 × 5 bits
  return chars.match(/.{5}/g)!.join('-');
}

/** Case, spaces and dashes do not matter when the code is typed back. */
export function normaliseRecoveryCode(input: string): string {
  return input.toUpperCase().replace(/[\s-]/g, '');
}

/**
 * A recovery code imported from Econobis (Laravel Fortify): `Str::random(10) . '-' . Str::random(10)`,
 * letters and digits. Recognised only in that shape, dash included, so that nothing loosens the
 * check of our own codes. Like ours it is compared without regard to case: 20 characters of 36
 * symbols (digits 1/62 each, letters 2/62) still carry about 102 bits.
 */
const IMPORTED_RECOVERY_CODE = /^[A-Za-z0-9]{10}-[A-Za-z0-9]{10}$/;

export function isImportedRecoveryCode(input: string): boolean {
  return IMPORTED_RECOVERY_CODE.test(input.trim());
}

export function isWellFormedRecoveryCode(input: string): boolean {
  return /^[A-Z2-7]{20}$/.test(normaliseRecoveryCode(input)) || isImportedRecoveryCode(input);
}

export function hashRecoveryCode(code: string): string {
  return createHash('sha256').update(normaliseRecoveryCode(code)).digest('hex');
}

export function recoveryCodeMatches(input: string, storedHash: string): boolean {
  const given = Buffer.from(hashRecoveryCode(input), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return given.length === stored.length && timingSafeEqual(given, stored);
}
