import type { Role } from '../../stores/accounts.js';

/**
 * Econobis's roles (spatie/laravel-permission, `roles.name`) that mean something to Sleutel. The
 * export's query takes only these; Econobis's other roles stay Econobis's business. Compared
 * without case (Econobis's own migrations write both "Key user" and "Key User") and in one Unicode
 * form (the ö may arrive composed or decomposed).
 */
const ECONOBIS_ROLES: Record<string, Role> = {
  'key user': 'key_user',
  'beheerder coöperatie instellingen': 'coop_admin',
};

export const KNOWN_ECONOBIS_ROLES = ['Key User', 'Beheerder coöperatie instellingen'];

export function sleutelRole(econobisRole: string): Role | undefined {
  return ECONOBIS_ROLES[econobisRole.normalize('NFC').trim().toLowerCase()];
}
