import { domainToASCII } from 'node:url';

/**
 * What "the same e-mail address" means, decided here and nowhere else (issue 20). Postgres'
 * lower() follows the database's LC_CTYPE (PGlite and a server may differ, and lower('İ') is 'i'
 * there where JavaScript gives 'i̇'), so addresses are never compared by the database's rules: every
 * input path turns an address into this canonical form, and the stores keep and compare only that.
 *
 * - the domain goes through IDNA (UTS #46, `url.domainToASCII`): case, fullwidth forms,
 *   compatibility characters and NFC/NFD are mapped, invisible joiners dropped, and the result is
 *   the ASCII (punycode) name the mail is delivered to;
 * - the local part must be ASCII (no SMTPUTF8): a non-ASCII local part has no case rule every mail
 *   system agrees on, so it is refused with a reason rather than guessed at; it is lowercased
 *   (ASCII letters only).
 */

export type EmailProblem = 'missing' | 'invalid' | 'non_ascii_local_part' | 'too_long';
export type EmailCheck = { ok: true; address: string } | { ok: false; problem: EmailProblem };

/** Plain-English reasons, for the management API, the CLI and the import report. */
export const EMAIL_PROBLEMS: Record<EmailProblem, string> = {
  missing: 'is empty',
  invalid: 'is not an e-mail address',
  non_ascii_local_part: 'has characters other than ASCII before the @ (not supported)',
  too_long: 'is too long (at most 64 characters before the @, 254 in all)',
};

// RFC 5322 atext and dots: what an unquoted local part may hold
const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$/;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const NON_ASCII = /[^\x00-\x7F]/;

export function canonicalEmail(input: string): EmailCheck {
  // longer than any address can get, even before IDNA shortens fullwidth forms: not worth mapping
  if (input.length > 1024) return { ok: false, problem: 'too_long' };
  if (!input.isWellFormed()) return { ok: false, problem: 'invalid' };
  const text = input.trim().normalize('NFC');
  if (text === '') return { ok: false, problem: 'missing' };
  const at = text.lastIndexOf('@');
  if (at <= 0 || at === text.length - 1) return { ok: false, problem: 'invalid' };
  const local = text.slice(0, at);
  if (NON_ASCII.test(local)) return { ok: false, problem: 'non_ascii_local_part' };
  if (!LOCAL_PART.test(local)) return { ok: false, problem: 'invalid' };
  if (local.length > 64) return { ok: false, problem: 'too_long' };
  const domain = domainToASCII(text.slice(at + 1));
  const labels = domain.split('.');
  if (domain === '' || labels.length < 2 || !labels.every((label) => LABEL.test(label))) return { ok: false, problem: 'invalid' };
  const address = `${local.replace(/[A-Z]/g, (c) => c.toLowerCase())}@${domain}`;
  if (address.length > 254) return { ok: false, problem: 'too_long' };
  return { ok: true, address };
}

/** The canonical form, or undefined when the address is refused. */
export const canonicalEmailOrUndefined = (input: string): string | undefined => {
  const check = canonicalEmail(input);
  return check.ok ? check.address : undefined;
};
