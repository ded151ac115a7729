/**
 * A tenant's policy, stored as data (tenants.policy, jsonb). Missing fields take these defaults,
 * so a policy written by an older version stays valid.
 */
export type Pool = 'staff' | 'portal';
export const POOLS: readonly Pool[] = ['staff', 'portal'];

export interface TenantPolicy {
  require_two_factor_for_all_staff: boolean;
  /** 0 = ask the code at every login. */
  remember_two_factor_hours: Record<Pool, number>;
  forget_two_factor_on_logout: boolean;
  /** The issuer label an authenticator app shows; undefined → the defaults below. */
  totp_issuer: Partial<Record<Pool, string>>;
  /** At least 8 (NIST 800-63B); a cooperative may ask more of a pool. */
  min_password_length: Record<Pool, number>;
}

export const DEFAULT_POLICY: TenantPolicy = {
  require_two_factor_for_all_staff: false,
  remember_two_factor_hours: { staff: 24, portal: 24 },
  forget_two_factor_on_logout: true,
  totp_issuer: {},
  min_password_length: { staff: 8, portal: 8 },
};

/** Limits of the settable fields (the management API and the admin console check against these). */
export const MAX_REMEMBER_HOURS = 720; // 30 days
export const MAX_MIN_PASSWORD_LENGTH = 64;
export const MAX_ISSUER_LENGTH = 100;

/** A change to a policy, or a stored one from an older version: any field may be missing. */
export type PolicyPatch = Partial<Omit<TenantPolicy, 'remember_two_factor_hours' | 'min_password_length'>> & {
  remember_two_factor_hours?: Partial<TenantPolicy['remember_two_factor_hours']>;
  min_password_length?: Partial<TenantPolicy['min_password_length']>;
};

/**
 * `patch` over `base`: per-pool fields are merged pool by pool, except the issuer labels, which a
 * patch replaces as a whole (a label left out of it falls back to the default).
 */
export function mergePolicy(base: TenantPolicy, patch: PolicyPatch | null | undefined): TenantPolicy {
  return {
    ...base,
    ...patch,
    remember_two_factor_hours: { ...base.remember_two_factor_hours, ...patch?.remember_two_factor_hours },
    totp_issuer: patch?.totp_issuer === undefined ? { ...base.totp_issuer } : { ...patch.totp_issuer },
    min_password_length: { ...base.min_password_length, ...patch?.min_password_length },
  };
}

export function withDefaults(stored: PolicyPatch | null | undefined): TenantPolicy {
  return mergePolicy(DEFAULT_POLICY, stored);
}

/** docs/rules.md § Terms: `Econobis {tenant name}` for staff, `Login {tenant name}` for portal users. */
export function totpIssuerLabel(policy: TenantPolicy, pool: Pool, tenantName: string): string {
  return policy.totp_issuer[pool] ?? (pool === 'staff' ? `Econobis ${tenantName}` : `Login ${tenantName}`);
}
