import fc from 'fast-check';
import { storeModes } from '../helpers/stores.js';

/**
 * Hostile inputs for the attack suite (issue 20, docs/rules.md § Security bar, "Bad input"),
 * generated with fast-check. FUZZ_SEED fixes the seed for a rerun; a failure prints the seed and the shrunk input.
 * FUZZ_SCALE multiplies every property's number of runs (1 = the ≥ 10 000 inputs of a normal run).
 */

export const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
const scale = process.env.FUZZ_SCALE ? Number(process.env.FUZZ_SCALE) : 1;

/** Runs of one property: `total` is the share of a whole run, split over the store modes that run. */
/** Time allowed to one property (a loaded two-core machine answers a screen in ~10-20 ms). */
export const PROPERTY_TIMEOUT = 240_000;

export const runs = (total: number) => Math.max(1, Math.round((total * scale) / storeModes.length));

/** fast-check's options for an async property; every input counts toward the suite's total. */
export function options(numRuns: number): fc.Parameters<unknown> {
  return { seed, numRuns, endOnFailure: true, verbose: 1 };
}

/** Runs a property and, when it fails, says how to run it again with the same inputs. */
export async function check<T>(property: fc.IAsyncPropertyWithHooks<[T]>, numRuns: number, counter: { inputs: number }): Promise<void> {
  const details = await fc.check(property, options(numRuns) as fc.Parameters<[T]>);
  counter.inputs += details.numRuns;
  if (details.failed) {
    throw new Error(`${fc.defaultReportMessage(details)}\nrerun with FUZZ_SEED=${seed}`);
  }
}

/** Characters that break naive handling: case folding, lookalikes, invisible, NUL, lone surrogates. */
export const SPECIALS = [
  '\u0000', '\uD800', '\uDFFF', '\uDBFF\uDFFF', '\uFFFD', '\uFEFF', '\u200B', '\u200D', '\u202E', '\u00A0', '\u3000',
  'İ', 'ı', 'i\u0307', 'ß', 'ẞ', 'ſ', '\u212A', 'ﬁ', 'Σ', 'ς', 'é', 'e\u0301', '\u0301', 'ǅ',
  '０', '９', '١', '۵', '߀', '٣', 'ⅷ', '𝟗', 'ｅ', 'Ａ', '＠', '．', 'а', 'е', 'о',
  '@', '.', '%', '%00', '%ZZ', '%C3', '&', '=', '+', '[', ']', '{', '}', '"', "'", '\\', '<', '>', '\n', '\r', '\t', ' ',
  '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'null', 'undefined', 'true', 'NaN', '-0', '1e309', '0x10', '123456',
];

const piece = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...SPECIALS) },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
  { weight: 1, arbitrary: fc.integer().map(String) },
  { weight: 1, arbitrary: fc.emailAddress() },
);

/** A string assembled from hostile pieces; now and then a huge one (up to ~1 MB). */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 40, arbitrary: fc.array(piece, { maxLength: 6 }).map((parts) => parts.join('')) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(65, 257, 321, 4096, 70_000, 1_048_576), fc.constantFrom('x', 'é', '\u0000', '😀', '0')).map(([n, c]) => c.repeat(n)) },
);

/** A six-digit ASCII code would count as a wrong code; the fuzzing of a code field avoids those. */
export const notACode = (s: string) => !/^[0-9]{6}$/.test(s);

/** An e-mail-like string: a real-looking address with hostile parts swapped in. */
export const hostileEmail: fc.Arbitrary<string> = fc.oneof(
  hostileString,
  fc.tuple(fc.array(piece, { maxLength: 3 }), fc.array(piece, { maxLength: 3 })).map(([l, d]) => `${l.join('') || 'a'}@${d.join('') || 'b'}.nl`),
  fc.tuple(fc.emailAddress(), fc.constantFrom(...SPECIALS), fc.nat()).map(([e, c, at]) => {
    const i = at % (e.length + 1);
    return e.slice(0, i) + c + e.slice(i);
  }),
);

/** JSON values for a field that expects a scalar: wrong types, numbers as strings and back, nesting. */
export const hostileJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    hostileString,
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.constantFrom(0, -1, 1, 8, 64, 65, 720, 721, 1e21, 2 ** 53, '8', '720', 'true', 'false', ''),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.oneof(fc.constantFrom('__proto__', 'constructor', 'staff', 'portal', 'toString'), fc.string({ maxLength: 6 })), tie('value'), { maxKeys: 3 }),
  ),
})).value;

/** `[[[…1…]]]` nested deeper than the API's limit, as a value inside a body. */
export const deeplyNested = fc.integer({ min: 33, max: 2000 }).map((depth) => {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
});

/** Percent-encoding that also encodes lone surrogates (as the bytes WTF-8 gives them: broken UTF-8). */
export function percentEncode(value: string): string {
  if (value.isWellFormed()) return encodeURIComponent(value);
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    const pair = unit >= 0xd800 && unit <= 0xdbff && i + 1 < value.length && (value.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
    if (unit >= 0xd800 && unit <= 0xdfff && !pair) {
      out += `%${(0xe0 | (unit >> 12)).toString(16)}%${(0x80 | ((unit >> 6) & 0x3f)).toString(16)}%${(0x80 | (unit & 0x3f)).toString(16)}`.toUpperCase();
    } else if (pair) {
      out += encodeURIComponent(value.slice(i, i + 2));
      i++;
    } else out += encodeURIComponent(value[i]!);
  }
  return out;
}

/** What one form field is sent as: a value, the key repeated, the key nested, raw bytes, or left out. */
export type FieldForm =
  | { kind: 'value'; value: string }
  | { kind: 'repeated'; values: string[] }
  | { kind: 'nested'; path: string[]; value: string }
  | { kind: 'raw'; bytes: number[] }
  | { kind: 'missing' };

export const fieldForm = (value: fc.Arbitrary<string>): fc.Arbitrary<FieldForm> =>
  fc.oneof(
    { weight: 10, arbitrary: value.map((v) => ({ kind: 'value' as const, value: v })) },
    { weight: 1, arbitrary: fc.array(value, { minLength: 2, maxLength: 8 }).map((values) => ({ kind: 'repeated' as const, values })) },
    { weight: 1, arbitrary: fc.tuple(fc.array(fc.constantFrom('a', '0', '', '__proto__', 'constructor', 'x'.repeat(40)), { minLength: 1, maxLength: 40 }), value).map(([path, v]) => ({ kind: 'nested' as const, path, value: v })) },
    { weight: 1, arbitrary: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 12 }).map((bytes) => ({ kind: 'raw' as const, bytes })) },
    { weight: 1, arbitrary: fc.constant({ kind: 'missing' as const }) },
  );

/** A urlencoded body from fields; `extra` adds hostile keys of its own (`__proto__[x]=…`). */
export function formBody(fields: Record<string, FieldForm>, extra: [string, string][] = []): Buffer {
  const parts: Buffer[] = [];
  const add = (key: string, value: string | Buffer) => parts.push(Buffer.concat([Buffer.from(`${key}=`), typeof value === 'string' ? Buffer.from(value) : value]));
  for (const [name, form] of Object.entries(fields)) {
    if (form.kind === 'value') add(name, percentEncode(form.value));
    else if (form.kind === 'repeated') for (const v of form.values) add(name, percentEncode(v));
    else if (form.kind === 'nested') add(`${name}${form.path.map((p) => `[${p}]`).join('')}`, percentEncode(form.value));
    else if (form.kind === 'raw') add(name, Buffer.from(form.bytes));
  }
  for (const [key, value] of extra) add(percentEncode(key), percentEncode(value));
  return Buffer.concat(parts.flatMap((p, i) => (i ? [Buffer.from('&'), p] : [p])));
}

export const extraKeys = fc.array(fc.tuple(fc.constantFrom('__proto__', 'constructor', '__proto__[admin]', 'constructor[prototype][x]', 'prototype', 'csrf', 'email'), hostileString), { maxLength: 2 });
