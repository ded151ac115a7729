/**
 * What an authentication proved, as `acr` and `amr` (docs/rules.md § What a login proves). Pure:
 * the login flow reports the factors that were satisfied; this decides the claims.
 */
export const ACR_PASSWORD = 'urn:sleutel:acr:pwd';
export const ACR_TWO_FACTOR = 'urn:sleutel:acr:2fa';
export const ACR_VALUES = [ACR_PASSWORD, ACR_TWO_FACTOR] as const;

/** RFC 8176 values: the password, a one-time code, a recovery code, a passkey (hardware- or software-secured key). */
export const AMR_VALUES = ['pwd', 'otp', 'rec', 'hwk', 'swk'] as const;
export type Amr = (typeof AMR_VALUES)[number];

export interface SatisfiedFactors {
  password: boolean;
  /** the `amr` values of the second factors passed in this authentication (src/factors/second-factor.ts) */
  secondFactors?: readonly Amr[];
  /** this browser is remembered for this account (no second factor passed now) */
  remembered?: boolean;
}

export function authenticationLevel(f: SatisfiedFactors): { acr: string; amr: Amr[] } {
  const secondFactors = f.secondFactors ?? [];
  const amr: Amr[] = [...(f.password ? (['pwd'] as const) : []), ...secondFactors];
  const secondFactor = secondFactors.length > 0 || Boolean(f.remembered);
  return { acr: f.password && secondFactor ? ACR_TWO_FACTOR : ACR_PASSWORD, amr };
}
