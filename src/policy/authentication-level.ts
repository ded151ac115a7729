/**
 * What an authentication proved, as `acr` and `amr` (docs/rules.md § What a login proves). Pure:
 * the login flow reports the factors that were satisfied; this decides the claims.
 */
export const ACR_PASSWORD = 'urn:sleutel:acr:pwd';
export const ACR_TWO_FACTOR = 'urn:sleutel:acr:2fa';
export const ACR_VALUES = [ACR_PASSWORD, ACR_TWO_FACTOR] as const;

export type Amr = 'pwd' | 'otp' | 'rec';

export interface SatisfiedFactors {
  password: boolean;
  /** a TOTP code was entered in this authentication */
  totp?: boolean;
  /** a recovery code was used in this authentication */
  recoveryCode?: boolean;
  /** this browser is remembered for this account (no code entered now) */
  remembered?: boolean;
}

export function authenticationLevel(f: SatisfiedFactors): { acr: string; amr: Amr[] } {
  const amr: Amr[] = [];
  if (f.password) amr.push('pwd');
  if (f.totp) amr.push('otp');
  if (f.recoveryCode) amr.push('rec');
  const secondFactor = Boolean(f.totp || f.recoveryCode || f.remembered);
  return { acr: f.password && secondFactor ? ACR_TWO_FACTOR : ACR_PASSWORD, amr };
}
