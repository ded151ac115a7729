import coBody from 'co-body';
import type { Context } from 'koa';
import { z } from 'zod';
import { SleutelError } from '../errors.js';
import { MAX_PASSWORD_LENGTH } from '../factors/password.js';
import { MAX_RESPONSE_LENGTH } from '../factors/passkey/responses.js';
import { isWellFormedRecoveryCode } from '../factors/recovery-code.js';
import { canonicalEmail, type EmailProblem } from '../policy/email-address.js';
import { CsrfRejected, type Csrf } from './csrf.js';
import type { Context as KoaContext } from 'koa';

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

const EMAIL_FORM_MESSAGES: Record<EmailProblem, string> = {
  missing: 'form.email_missing',
  invalid: 'form.email_invalid',
  too_long: 'form.email_invalid',
  non_ascii_local_part: 'form.email_non_ascii',
};

export const fields = {
  // the canonical form (src/policy/email-address.ts) is what every flow after the form sees
  email: text().transform((value, ctx) => {
    const check = canonicalEmail(value);
    if (check.ok) return check.address;
    ctx.addIssue({ code: 'custom', message: EMAIL_FORM_MESSAGES[check.problem] });
    return z.NEVER;
  }),
  password: text().min(1, 'form.password_missing').max(MAX_PASSWORD_LENGTH, 'form.password_too_long'),
  current_password: text().min(1, 'form.current_password_missing').max(MAX_PASSWORD_LENGTH, 'form.password_too_long'),
  // exactly six ASCII digits: "١٢٣٤٥٦" or " 123 456" are not accepted as codes
  code: text().min(1, 'form.code_missing').regex(/^[0-9]{6}$/, 'form.code_invalid'),
  // a passkey's name and the browser's WebAuthn answer (JSON); the factor checks both further
  passkey_name: text().max(400, 'passkey.bad_name'),
  webauthn_response: text().min(1, 'passkey.no_response').max(MAX_RESPONSE_LENGTH, 'passkey.refused'),
  recovery_code: text().min(1, 'form.recovery_code_missing').max(64, 'form.recovery_code_invalid').refine(isWellFormedRecoveryCode, 'form.recovery_code_invalid'),
};

export type Submitted<T> = { ok: true; data: T; raw: Record<string, unknown> } | { ok: false; status: number; messageKey: string; raw: Record<string, unknown> };

/**
 * A state-changing form post: body read, CSRF token checked, fields validated. Problems come back
 * as a status and a message for the screen, not as exceptions, so each screen re-renders itself.
 */
export async function submittedForm<T extends z.ZodType>(ctx: KoaContext, csrf: Csrf, schema: T): Promise<Submitted<z.infer<T>>> {
  let raw: Record<string, unknown> = {};
  try {
    raw = await readForm(ctx);
    csrf.verify(ctx, raw.csrf);
    return { ok: true, data: validate(schema, raw), raw };
  } catch (error) {
    if (error instanceof FormInvalid || error instanceof CsrfRejected) return { ok: false, status: error.status, messageKey: error.messageKey, raw };
    throw error;
  }
}
