/**
 * Password rules after NIST 800-63B (docs/rules.md § Security bar): a minimum length (8, or more
 * per tenant and pool), at least 64 characters allowed (256 here), no composition rules, common
 * passwords refused. Over-long passwords are refused before anything is hashed.
 */
export const MIN_PASSWORD_LENGTH = 8;

export type PasswordProblem = 'too_short' | 'too_long' | 'common' | 'contains_email';

export function passwordProblem(
  password: string,
  rules: { minLength: number; maxLength: number; email?: string; isCommon: (p: string) => boolean },
): PasswordProblem | undefined {
  const length = [...password].length; // characters, not UTF-16 units
  if (length < Math.max(rules.minLength, MIN_PASSWORD_LENGTH)) return 'too_short';
  if (length > rules.maxLength) return 'too_long';
  if (rules.isCommon(password)) return 'common';
  const local = rules.email?.split('@')[0]?.toLowerCase();
  if (rules.email && (password.toLowerCase() === rules.email.toLowerCase() || (local && local.length >= 4 && password.toLowerCase() === local))) return 'contains_email';
  return undefined;
}
