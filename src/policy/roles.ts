/** The staff roles of the role table (docs/rules.md § Role table). Portal accounts have none. */
export type Role = 'key_user' | 'coop_admin';
export const ROLES: readonly Role[] = ['key_user', 'coop_admin'];
