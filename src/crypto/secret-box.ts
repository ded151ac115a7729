import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { EncryptionKey } from '../config/environment.js';

/**
 * AES-256-GCM for secrets at rest (TOTP secrets, client secrets, signing keys).
 * Sealed form: `kid.iv.tag.ciphertext` (base64url parts). The key id is kept so older keys in
 * ENCRYPTION_KEYS still open what they sealed; the first key seals. `context` is bound as
 * associated data so a sealed value cannot be moved to another row or purpose.
 */
export class SecretBox {
  private readonly byId: Map<string, Buffer>;

  constructor(private readonly keys: EncryptionKey[]) {
    if (keys.length === 0) throw new Error('SecretBox needs at least one key');
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  get activeKeyId(): string {
    return this.keys[0]!.id;
  }

  seal(plaintext: string | Buffer, context: string): string {
    const { id, key } = this.keys[0]!;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(context));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return [id, iv, cipher.getAuthTag(), ciphertext].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
  }

  open(sealed: string, context: string): Buffer {
    const [id, iv, tag, ciphertext] = sealed.split('.');
    const key = id === undefined ? undefined : this.byId.get(id);
    if (!key || iv === undefined || tag === undefined || ciphertext === undefined) {
      throw new Error(`cannot open secret sealed with key "${id}": not in ENCRYPTION_KEYS`);
    }
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]);
  }

  /** True when the value was sealed with an older key (for `sleutel keys reencrypt`). */
  isStale(sealed: string): boolean {
    return !sealed.startsWith(`${this.activeKeyId}.`);
  }
}
