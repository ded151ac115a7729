import { createDecipheriv, createHmac, timingSafeEqual } from 'node:crypto';
import { serialize, unserialize } from 'php-serialize';

/**
 * Opens what Laravel's `encrypt()` made (Illuminate\Encryption\Encrypter, cipher AES-256-CBC):
 * base64 of the JSON {iv, value, mac[, tag]}, where value is the base64 ciphertext of the
 * PHP-serialized plaintext and mac is hex HMAC-SHA256(key, iv . value) over the two base64 strings.
 * The MAC is checked, in constant time, before anything is decrypted.
 */

export class LaravelDecryptError extends Error {}
/** The MAC did not verify: another APP_KEY, or an altered value. */
export class LaravelMacError extends LaravelDecryptError {}

const KEY_BYTES = 32; // AES-256

/** APP_KEY as in Econobis's .env: `base64:` and 32 bytes (or, from old installs, 32 plain characters). */
export function parseAppKey(appKey: string): Buffer {
  const key = appKey.startsWith('base64:') ? Buffer.from(appKey.slice('base64:'.length), 'base64') : Buffer.from(appKey, 'utf8');
  if (key.length !== KEY_BYTES) {
    throw new LaravelDecryptError(`the APP_KEY must be "base64:" followed by ${KEY_BYTES} bytes in base64, as in Econobis's .env (this one has ${key.length} bytes)`);
  }
  return key;
}

interface Payload {
  iv: string;
  value: string;
  mac: string;
  tag?: string;
}

function readPayload(encrypted: string): Payload {
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(encrypted, 'base64').toString('utf8'));
  } catch {
    throw new LaravelDecryptError('not a Laravel encrypted value (no base64 JSON)');
  }
  const p = payload as Partial<Payload> | null;
  if (typeof p !== 'object' || p === null || typeof p.iv !== 'string' || typeof p.value !== 'string' || typeof p.mac !== 'string') {
    throw new LaravelDecryptError('not a Laravel encrypted value (iv, value or mac missing)');
  }
  if (p.tag !== undefined && p.tag !== null && p.tag !== '') {
    throw new LaravelDecryptError('encrypted with an AEAD cipher (tag present); only AES-256-CBC is supported');
  }
  return p as Payload;
}

/** The plaintext string, or a LaravelDecryptError saying why not (bad MAC, wrong key, not a string). */
export function laravelDecrypt(encrypted: string, key: Buffer): string {
  const { iv, value, mac } = readPayload(encrypted);
  const expected = Buffer.from(createHmac('sha256', key).update(iv + value).digest('hex'), 'utf8');
  const given = Buffer.from(mac, 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new LaravelMacError('the MAC is invalid (another APP_KEY, or the value was altered)');
  }
  const ivBytes = Buffer.from(iv, 'base64');
  if (ivBytes.length !== 16) throw new LaravelDecryptError('the IV is not 16 bytes');
  let plaintext: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-cbc', key, ivBytes);
    plaintext = Buffer.concat([decipher.update(Buffer.from(value, 'base64')), decipher.final()]);
  } catch {
    throw new LaravelDecryptError('the value does not decrypt with this APP_KEY');
  }
  return unserializeString(plaintext);
}

/** encrypt() serializes its argument; here that must be a plain string, written exactly (no trailing bytes). */
function unserializeString(serialized: Buffer): string {
  let value: unknown;
  try {
    // no class scope and strict: a serialized object is refused, never instantiated
    value = unserialize(serialized, {}, { strict: true });
  } catch {
    throw new LaravelDecryptError('the plaintext is not PHP-serialized');
  }
  if (typeof value !== 'string' || !Buffer.from(serialize(value)).equals(serialized)) {
    throw new LaravelDecryptError('the plaintext is not a PHP-serialized string');
  }
  return value;
}
