import { createCipheriv, createHmac, randomBytes, randomInt } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { serialize } from 'php-serialize';

/**
 * Econobis's secrets made the way Laravel makes them, for fixtures: `encrypt()` (Illuminate's
 * Encrypter with AES-256-CBC), `Hash::make()` (bcrypt, cost 10, `$2y$`), Fortify's recovery codes
 * and Google2FA's secrets. Written from Laravel's behaviour, not from the importer's code; the unit
 * test also checks the importer against values PHP itself produced.
 */

export const newAppKey = (): Buffer => randomBytes(32);
export const appKeyText = (key: Buffer): string => `base64:${key.toString('base64')}`;

/** encrypt($value): serialize, AES-256-CBC under a random IV, hex HMAC-SHA256 of base64(iv) . base64(value), base64 JSON. */
export function laravelEncrypt(value: string, key: Buffer, options: { withTag?: boolean; serialized?: string } = {}): string {
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  const plaintext = Buffer.from(options.serialized ?? serialize(value), 'utf8');
  const value64 = Buffer.concat([cipher.update(plaintext), cipher.final()]).toString('base64');
  const iv64 = iv.toString('base64');
  const mac = createHmac('sha256', key).update(iv64 + value64).digest('hex');
  // Laravel 9 and later add an empty tag for CBC; older versions write none
  const payload = options.withTag === false ? { iv: iv64, value: value64, mac } : { iv: iv64, value: value64, mac, tag: '' };
  return Buffer.from(JSON.stringify(payload)).toString('base64');
}

/** Changes one field of an encrypted payload, leaving the rest (for tampering tests). */
export function alterPayload(encrypted: string, change: (payload: Record<string, string>) => void): string {
  const payload = JSON.parse(Buffer.from(encrypted, 'base64').toString('utf8')) as Record<string, string>;
  change(payload);
  return Buffer.from(JSON.stringify(payload)).toString('base64');
}

/** Hash::make($password) with Laravel's defaults: bcrypt cost 10, PHP's `$2y$` marker. */
export function laravelBcrypt(password: string): string {
  return bcrypt.hashSync(password, 10).replace(/^\$2b\$/, '$2y$');
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const random = (alphabet: string, length: number) => Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join('');

/** Fortify's RecoveryCode::generate(): Str::random(10) . '-' . Str::random(10). */
export const fortifyRecoveryCode = (): string => `${random(ALPHANUMERIC, 10)}-${random(ALPHANUMERIC, 10)}`;

/** Google2FA's generateSecretKey() as Fortify calls it: 16 base32 characters (80 bits). */
export const google2faSecret = (): string => random('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16);
