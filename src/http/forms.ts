import coBody from 'co-body';
import type { Context } from 'koa';
import { z } from 'zod';
import { SleutelError } from '../errors.js';
import { MAX_PASSWORD_LENGTH } from '../factors/password.js';

/** A form that could not be read or did not validate; messageKey says what was wrong. */
export class FormInvalid extends SleutelError {
  constructor(messageKey: string, status = 400) {
    super(status, 'invalid_request', messageKey);
  }
}

class BrokenEncoding extends Error {}

/** Percent-decoding that refuses broken UTF-8 instead of passing it through. */
function strictDecoder(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    throw new BrokenEncoding('broken percent-encoding');
  }
}

/**
 * Reads an application/x-www-form-urlencoded body. Limits: 64 kB, 20 fields, no nesting.
 * Raw bytes that are not UTF-8 arrive as U+FFFD and are refused like NUL bytes.
 */
export async function readForm(ctx: Context): Promise<Record<string, unknown>> {
  if (!ctx.is('application/x-www-form-urlencoded')) throw new FormInvalid('error.bad_request', 415);
  let body: Record<string, unknown>;
  try {
    body = (await coBody.form(ctx, {
      limit: '64kb',
      queryString: { decoder: strictDecoder, parameterLimit: 20, depth: 0, arrayLimit: 5, allowPrototypes: false, plainObjects: true },
    })) as Record<string, unknown>;
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (status === 413) throw new FormInvalid('form.too_large', 413);
    throw new FormInvalid('form.invalid_encoding');
  }
  for (const value of Object.values(body)) {
    if (typeof value === 'string' && /[\u0000\uFFFD]/.test(value)) throw new FormInvalid('form.invalid_encoding');
  }
  return body;
}

/** Validates with zod; the first problem's message is a catalogue key. */
export function validate<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const result = schema.safeParse(body);
  if (!result.success) throw new FormInvalid(result.error.issues[0]?.message ?? 'form.invalid_field');
  return result.data;
}

const text = () => z.string({ error: 'form.invalid_field' });

export const fields = {
  csrf: z.unknown(),
  email: text()
    .trim()
    .min(1, 'form.email_missing')
    .max(320, 'form.email_invalid')
    .regex(/^[^\s@]+@[^\s@]+$/, 'form.email_invalid'),
  password: text().min(1, 'form.password_missing').max(MAX_PASSWORD_LENGTH, 'form.password_too_long'),
};
