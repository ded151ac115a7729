import { createHmac } from 'node:crypto';

/**
 * An independent RFC 6238 implementation (SHA1, 6 digits, 30 s) for the tests, written from the
 * RFC rather than with otplib, so a shared misunderstanding cannot make both sides agree.
 */
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function base32Decode(input: string): Buffer {
  const clean = input.replace(/[\s=]/g, '').toUpperCase();
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const char of clean) {
    const index = BASE32.indexOf(char);
    if (index < 0) throw new Error(`not base32: ${char}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

export function hotp(key: Buffer, counter: number, digits = 6): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', key).update(message).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = (mac.readUInt32BE(offset) & 0x7fffffff) % 10 ** digits;
  return String(binary).padStart(digits, '0');
}

/** The code for a base32 secret at `epochSeconds` (default now), `stepOffset` steps away. */
export function totp(base32Secret: string, stepOffset = 0, epochSeconds = Date.now() / 1000): string {
  return hotp(base32Decode(base32Secret), Math.floor(epochSeconds / 30) + stepOffset);
}

export const timeStepNow = () => Math.floor(Date.now() / 1000 / 30);

/**
 * The previous time step's code, for a confirmation that must leave the code of "now" free for the
 * next login (no replay). The server accepts it only while it is still in this step, so close to a
 * step's end (the last 3 s) this waits for the next step first: otherwise the code can be two steps
 * old by the time it arrives, and a slow CI run sees a refused confirmation.
 */
export async function previousStepCode(base32Secret: string): Promise<string> {
  const intoStep = (Date.now() / 1000) % 30;
  if (intoStep > 27) await new Promise((resolve) => setTimeout(resolve, (30 - intoStep) * 1000 + 50));
  return totp(base32Secret, -1);
}
