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

export function withDefaults(stored: Partial<TenantPolicy> | null | undefined): TenantPolicy {
  return {
    ...DEFAULT_POLICY,
    ...stored,
    remember_two_factor_hours: { ...DEFAULT_POLICY.remember_two_factor_hours, ...stored?.remember_two_factor_hours },
    totp_issuer: { ...stored?.totp_issuer },
    min_password_length: { ...DEFAULT_POLICY.min_password_length, ...stored?.min_password_length },
  };
}

/** docs/rules.md § Terms: `Econobis {tenant name}` for staff, `Login {tenant name}` for portal users. */
export function totpIssuerLabel(policy: TenantPolicy, pool: Pool, tenantName: string): string {
  return policy.totp_issuer[pool] ?? (pool === 'staff' ? `Econobis ${tenantName}` : `Login ${tenantName}`);
}
