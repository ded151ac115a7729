import { randomBytes, randomInt } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import { describe, expect, test } from '@jest/globals';
import QRCode from 'qrcode';
import { PERIOD_SECONDS, currentTotp, isWellFormedCode, matchTotp, newTotpSecret, provisioning } from '../../src/factors/totp.js';
import { base32Decode, hotp, totp } from '../helpers/totp.js';

/**
 * The TOTP factor (docs/rules.md, rule 1 and § Security bar): RFC 6238 SHA1, 6 digits, 30 s,
 * ±1 step, replay refused. Expected codes come from the RFC's own table or from
 * test/helpers/totp.ts (written from the RFC, not with otplib), never from the module under test.
 */

// RFC 6238 appendix B: the SHA1 seed is the ASCII string "12345678901234567890".
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
// [time, the RFC's 8-digit SHA1 value]; our codes are its last 6 digits
const RFC_VECTORS: [number, string][] = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
];

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
/** RFC 4648 base32 without padding, written here so the secrets do not come from otplib. */
function base32Encode(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

const stepOf = (epochSeconds: number) => Math.floor(epochSeconds / PERIOD_SECONDS);
/** The helper's code of time step `step`. */
const codeOfStep = (secret: string, step: number) => totp(secret, 0, step * PERIOD_SECONDS);

describe('RFC 6238 test vectors (SHA1)', () => {
  test('the seed "12345678901234567890" is the base32 secret used', () => {
    expect(base32Decode(RFC_SECRET).toString('ascii')).toBe('12345678901234567890');
    expect(base32Encode(Buffer.from('12345678901234567890', 'ascii'))).toBe(RFC_SECRET);
  });

  test.each(RFC_VECTORS)('at T=%d currentTotp gives the last 6 digits of %s', async (time, rfc) => {
    const code = rfc.slice(-6);
    // the independent helper agrees with the RFC, so it can be trusted for the random checks below
    expect(hotp(Buffer.from('12345678901234567890'), stepOf(time), 8)).toBe(rfc);
    expect(await currentTotp(RFC_SECRET, time)).toBe(code);
  });

  test.each(RFC_VECTORS)('at T=%d matchTotp accepts %s (last 6 digits) and returns its time step', async (time, rfc) => {
    expect(await matchTotp(RFC_SECRET, rfc.slice(-6), undefined, time)).toBe(stepOf(time));
  });

  test.each(RFC_VECTORS)('at T=%d the 8-digit value itself, and the first 6 digits, are refused', async (time, rfc) => {
    expect(await matchTotp(RFC_SECRET, rfc, undefined, time)).toBeUndefined();
    if (rfc.slice(0, 6) !== rfc.slice(-6)) expect(await matchTotp(RFC_SECRET, rfc.slice(0, 6), undefined, time)).toBeUndefined();
  });
});

describe('the accepted window: one step either way, not two', () => {
  // Several positions inside a step (its first second, the middle, its last second), so a window
  // measured in seconds instead of steps would show.
  const BASE_STEP = stepOf(1111111111);
  const positions = [0, 1, 15, 29];

  test('the codes of neighbouring steps differ (otherwise the refusals below would prove nothing)', () => {
    const codes = [-2, -1, 0, 1, 2].map((d) => codeOfStep(RFC_SECRET, BASE_STEP + d));
    expect(new Set(codes).size).toBe(5);
  });

  test.each(positions)('%d s into step N: the codes of N-1, N and N+1 are accepted as those steps', async (offset) => {
    const now = BASE_STEP * PERIOD_SECONDS + offset;
    for (const d of [-1, 0, 1]) {
      expect(await matchTotp(RFC_SECRET, codeOfStep(RFC_SECRET, BASE_STEP + d), undefined, now)).toBe(BASE_STEP + d);
    }
  });

  test.each(positions)('%d s into step N: the codes of N-2, N+2, N-3 and N+3 are refused', async (offset) => {
    const now = BASE_STEP * PERIOD_SECONDS + offset;
    for (const d of [-3, -2, 2, 3]) {
      expect(await matchTotp(RFC_SECRET, codeOfStep(RFC_SECRET, BASE_STEP + d), undefined, now)).toBeUndefined();
    }
  });

  test('without epochSeconds the current time is used (±1 step around now)', async () => {
    const secret = newTotpSecret();
    const now = Date.now() / 1000;
    // the step may roll over between here and the check: any of the three neighbours is fine then
    const step = await matchTotp(secret, totp(secret, 0, now));
    expect(step).toBeDefined();
    expect(Math.abs(step! - stepOf(now))).toBeLessThanOrEqual(1);
    expect(await matchTotp(secret, totp(secret, -5, now))).toBeUndefined();
    expect(await matchTotp(secret, totp(secret, 5, now))).toBeUndefined();
  });
});

describe('replay: afterTimeStep', () => {
  const N = stepOf(1234567890);
  const now = N * PERIOD_SECONDS + 10;
  const code = (d: number) => codeOfStep(RFC_SECRET, N + d);

  test('a code of the step already accepted is refused', async () => {
    expect(await matchTotp(RFC_SECRET, code(0), undefined, now)).toBe(N);
    expect(await matchTotp(RFC_SECRET, code(0), N, now)).toBeUndefined();
  });

  test('a code of an earlier step (still inside the window) is refused', async () => {
    expect(await matchTotp(RFC_SECRET, code(-1), undefined, now)).toBe(N - 1);
    expect(await matchTotp(RFC_SECRET, code(-1), N, now)).toBeUndefined();
    expect(await matchTotp(RFC_SECRET, code(-1), N - 1, now)).toBeUndefined();
  });

  test('a code of a later step is accepted, and its step returned', async () => {
    expect(await matchTotp(RFC_SECRET, code(0), N - 1, now)).toBe(N);
    expect(await matchTotp(RFC_SECRET, code(1), N, now)).toBe(N + 1);
    expect(await matchTotp(RFC_SECRET, code(1), N - 1, now)).toBe(N + 1);
    expect(await matchTotp(RFC_SECRET, code(0), 0, now)).toBe(N);
  });

  test('after a step ahead of the clock was accepted, the current step is a replay too', async () => {
    expect(await matchTotp(RFC_SECRET, code(0), N + 1, now)).toBeUndefined();
    expect(await matchTotp(RFC_SECRET, code(1), N + 1, now)).toBeUndefined();
  });

  test('the sequence of a real session: accept, replay refused, next step accepted', async () => {
    let last: number | undefined;
    const first = await matchTotp(RFC_SECRET, code(0), last, now);
    expect(first).toBe(N);
    last = first;
    expect(await matchTotp(RFC_SECRET, code(0), last, now)).toBeUndefined();
    expect(await matchTotp(RFC_SECRET, code(0), last, now + 30)).toBeUndefined();
    const second = await matchTotp(RFC_SECRET, code(1), last, now + 30);
    expect(second).toBe(N + 1);
  });
});

describe('malformed codes', () => {
  test.each(['12345', '1234567', '١٢٣٤٥٦', ' 123456', '12 3456', '', 'abcdef', '123456 ', '123456\n', '12345\u0000', '+12345', '-12345', '1e5000', '１２３４５６'])(
    'isWellFormedCode(%j) is false',
    (input) => {
      expect(isWellFormedCode(input)).toBe(false);
    },
  );

  test.each(['123456', '000000', '999999'])('isWellFormedCode(%j) is true', (input) => {
    expect(isWellFormedCode(input)).toBe(true);
  });

  // Variations of the code that IS correct at this moment, so a lenient parser (trimming, dropping
  // spaces, mapping other digits to ASCII, padding) would accept them and the test would fail.
  const time = 1111111111;
  const valid = '050471';
  const toArabicIndic = (s: string) => s.replace(/[0-9]/g, (d) => String.fromCharCode(0x0660 + Number(d)));
  const toFullwidth = (s: string) => s.replace(/[0-9]/g, (d) => String.fromCharCode(0xff10 + Number(d)));

  test('the unaltered code is accepted (the variations below are of a correct code)', async () => {
    expect(await matchTotp(RFC_SECRET, valid, undefined, time)).toBe(stepOf(time));
  });

  test.each([
    ['5 digits (leading zero dropped)', '50471'],
    ['7 digits', '0504710'],
    ['7 digits, zero in front', '0050471'],
    ['Arabic-Indic digits', toArabicIndic(valid)],
    ['fullwidth digits', toFullwidth(valid)],
    ['leading space', ` ${valid}`],
    ['trailing space', `${valid} `],
    ['trailing newline', `${valid}\n`],
    ['space inside', '050 471'],
    ['dash inside', '050-471'],
    ['NUL byte', `${valid}\u0000`],
    ['empty', ''],
    ['letters', 'abcdef'],
    ['the brief\'s examples: 12345', '12345'],
    ['1234567', '1234567'],
    ['١٢٣٤٥٦', '١٢٣٤٥٦'],
    [' 123456', ' 123456'],
    ['12 3456', '12 3456'],
  ])('%s (%j) is refused by matchTotp', async (_label, input) => {
    expect(await matchTotp(RFC_SECRET, input, undefined, time)).toBeUndefined();
  });
});

describe('new secrets', () => {
  test('newTotpSecret is 32 base32 characters, 160 bits', () => {
    const secret = newTotpSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(base32Decode(secret)).toHaveLength(20);
  });

  test('newTotpSecret differs each time, and uses the whole alphabet', () => {
    const secrets = Array.from({ length: 200 }, () => newTotpSecret());
    expect(new Set(secrets).size).toBe(secrets.length);
    // 6400 characters: a secret from a narrowed alphabet (hex, digits only) would miss symbols
    expect(new Set(secrets.join('')).size).toBe(32);
    // and the decoded bytes are not all the same shape (e.g. ASCII-only bytes)
    const highBit = secrets.map((s) => base32Decode(s)).some((b) => b.some((byte) => byte >= 0x80));
    expect(highBit).toBe(true);
  });
});

/** Decodes an 8-bit RGBA/RGB/grey PNG enough to read pixels (zlib inflate + the five row filters). */
function decodePng(png: Buffer): { width: number; height: number; dark(x: number, y: number): boolean } {
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  let offset = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('ascii', offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect(data[8]).toBe(8); // bit depth
      channels = ({ 0: 1, 2: 3, 4: 2, 6: 4 } as Record<number, number>)[data[9]!]!;
      expect(data[12]).toBe(0); // not interlaced
    }
    if (type === 'IDAT') idat.push(data);
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y += 1) {
    const filter = raw[y * (stride + 1)]!;
    for (let i = 0; i < stride; i += 1) {
      const x = raw[y * (stride + 1) + 1 + i]!;
      const a = i >= channels ? pixels[y * stride + i - channels]! : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + i]! : 0;
      const c = i >= channels && y > 0 ? pixels[(y - 1) * stride + i - channels]! : 0;
      let predictor = 0;
      if (filter === 1) predictor = a;
      else if (filter === 2) predictor = b;
      else if (filter === 3) predictor = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      pixels[y * stride + i] = (x + predictor) & 0xff;
    }
  }
  return { width, height, dark: (x, y) => pixels[y * stride + x * channels]! < 128 };
}

describe('provisioning (the enrollment screen)', () => {
  const issuer = 'Econobis Zon op Zuid';
  const email = 'jan.de-vries+coop@example.nl';

  test('an otpauth://totp URI with the issuer label, the e-mail as account name, and the secret', async () => {
    const secret = newTotpSecret();
    const { uri } = await provisioning(secret, issuer, email);
    expect(uri.startsWith('otpauth://totp/')).toBe(true);

    const url = new URL(uri);
    expect(url.protocol).toBe('otpauth:');
    expect(url.host).toBe('totp');
    const label = decodeURIComponent(url.pathname.slice(1));
    expect(label).toBe(`${issuer}:${email}`);
    expect(url.searchParams.get('secret')).toBe(secret);
    expect(url.searchParams.get('issuer')).toBe(issuer);
    // the defaults an authenticator app assumes, if stated at all, are those of rule 1
    for (const [name, expected] of [['algorithm', 'SHA1'], ['digits', '6'], ['period', '30']] as const) {
      const value = url.searchParams.get(name);
      if (value !== null) expect(value.toUpperCase()).toBe(expected);
    }
  });

  test('the portal issuer label and an e-mail with reserved characters survive the URI encoding', async () => {
    const { uri } = await provisioning(RFC_SECRET, 'Login Zon & Wind #1', 'a&b=c?d@example.nl');
    const url = new URL(uri);
    expect(decodeURIComponent(url.pathname.slice(1))).toBe('Login Zon & Wind #1:a&b=c?d@example.nl');
    expect(url.searchParams.get('issuer')).toBe('Login Zon & Wind #1');
    expect(url.searchParams.get('secret')).toBe(RFC_SECRET);
    expect([...url.searchParams.keys()].sort()).toEqual(['issuer', 'secret']);
  });

  // apps split the label at its first ':' (Key Uri Format), so the issuer part may not contain one
  test('an issuer label with a colon does not change where the app splits issuer and account', async () => {
    const { uri } = await provisioning(RFC_SECRET, 'Energie: Zon op Zuid', 'jan@example.nl');
    const label = decodeURIComponent(new URL(uri).pathname.slice(1));
    expect(label.slice(label.indexOf(':') + 1)).toBe('jan@example.nl');
  });

  test('the key as text is the secret in groups of four', async () => {
    const { key } = await provisioning(RFC_SECRET, issuer, email);
    expect(key).toBe('GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ');
    const fresh = newTotpSecret();
    const grouped = (await provisioning(fresh, issuer, email)).key;
    expect(grouped).toMatch(/^[A-Z2-7]{4}( [A-Z2-7]{4}){7}$/);
    expect(grouped.replace(/ /g, '')).toBe(fresh);
  });

  test('the QR code is a PNG data URL of exactly the URI', async () => {
    const { uri, qrCode } = await provisioning(RFC_SECRET, issuer, email);
    expect(qrCode.startsWith('data:image/png;base64,')).toBe(true);
    const png = decodePng(Buffer.from(qrCode.slice('data:image/png;base64,'.length), 'base64'));
    expect(png.width).toBe(png.height);
    expect(png.width).toBeGreaterThanOrEqual(200); // scannable from a phone screen

    // Sample the centre of every module and compare with the symbol of `uri` (same error
    // correction level as the screen); another text (say the bare secret) gives another symbol.
    // The symbol's extent is found from its dark pixels (the finder patterns sit in three corners),
    // so the margin and size chosen for the screen do not matter.
    let [left, top, right, bottom] = [png.width, png.height, -1, -1];
    for (let y = 0; y < png.height; y += 1) {
      for (let x = 0; x < png.width; x += 1) {
        if (!png.dark(x, y)) continue;
        [left, top, right, bottom] = [Math.min(left, x), Math.min(top, y), Math.max(right, x), Math.max(bottom, y)];
      }
    }
    expect(left).toBeGreaterThan(0); // a light quiet zone around the symbol
    expect(top).toBeGreaterThan(0);
    const sample = (text: string) => {
      const symbol = QRCode.create(text, { errorCorrectionLevel: 'M' }).modules;
      const scaleX = (right + 1 - left) / symbol.size;
      const scaleY = (bottom + 1 - top) / symbol.size;
      let mismatches = 0;
      for (let row = 0; row < symbol.size; row += 1) {
        for (let col = 0; col < symbol.size; col += 1) {
          const x = left + Math.floor((col + 0.5) * scaleX);
          const y = top + Math.floor((row + 0.5) * scaleY);
          if (png.dark(x, y) !== Boolean(symbol.get(row, col))) mismatches += 1;
        }
      }
      return mismatches;
    };
    expect(sample(uri)).toBe(0);
    expect(sample(`otpauth://totp/Other:${email}?secret=${RFC_SECRET}&issuer=Other`)).toBeGreaterThan(0);
  });
});

describe('cross-check against the independent RFC 6238 implementation', () => {
  // Random secrets (our own base32 encoding of random bytes, and secrets from newTotpSecret) at
  // random times from 1970 to beyond 2100.
  const cases = Array.from({ length: 150 }, (_, i) => ({
    secret: i % 2 === 0 ? base32Encode(randomBytes(20)) : newTotpSecret(),
    time: randomInt(0, 2 ** 32),
  }));

  test('currentTotp equals the helper for 150 random secrets and times', async () => {
    for (const { secret, time } of cases) {
      expect({ secret, time, code: await currentTotp(secret, time) }).toEqual({ secret, time, code: totp(secret, 0, time) });
    }
  });

  test('matchTotp accepts the helper\'s codes of steps -1, 0, +1 as exactly those steps', async () => {
    for (const { secret, time } of cases.slice(0, 60)) {
      for (const d of [-1, 0, 1]) {
        const step = await matchTotp(secret, totp(secret, d, time), undefined, time);
        expect(step).toBeDefined();
        // a code can coincide with a neighbour's (1 in 10^6): then the earlier step may match
        if (step !== stepOf(time) + d) expect(totp(secret, d, time)).toBe(codeOfStep(secret, step!));
        else expect(step).toBe(stepOf(time) + d);
      }
    }
  });

  test('a secret is not interchangeable with another: another secret\'s code is refused', async () => {
    let refused = 0;
    for (const { secret, time } of cases.slice(0, 40)) {
      const other = newTotpSecret();
      if ((await matchTotp(secret, totp(other, 0, time), undefined, time)) === undefined) refused += 1;
    }
    // each would be accepted by chance with probability 3·10⁻⁶
    expect(refused).toBe(40);
  });
});
