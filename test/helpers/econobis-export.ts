import { alterPayload, fortifyRecoveryCode, google2faSecret, laravelBcrypt, laravelEncrypt } from './laravel.js';
import { randomPassword } from './server.js';

/**
 * An Econobis export (docs/econobis-export.md) as the documented MySQL query writes it — flags as
 * 0/1, MySQL datetimes, encrypt() payloads, `$2y$10$` hashes — with good rows and broken ones.
 */
export interface EconobisPerson {
  econobisId: number;
  email: string;
  password: string;
  /** the TOTP secret and the recovery code Econobis showed (the first of the list) */
  secret?: string;
  recoveryCode?: string;
}

type Row = Record<string, unknown>;

export function twoFactorColumns(key: Buffer, confirmed = true) {
  const secret = google2faSecret();
  const codes = Array.from({ length: 8 }, fortifyRecoveryCode);
  return {
    secret,
    recoveryCode: codes[0]!,
    columns: {
      two_factor_secret: laravelEncrypt(secret, key),
      two_factor_recovery_codes: laravelEncrypt(JSON.stringify(codes), key),
      two_factor_confirmed_at: confirmed ? '2025-03-14 09:26:53.000000' : null,
    },
  };
}

function person(id: number, email: string, key: Buffer, options: { twoFactor?: boolean; confirmed?: boolean } = {}) {
  const password = randomPassword();
  const tf = options.twoFactor ? twoFactorColumns(key, options.confirmed ?? true) : undefined;
  const row: Row = {
    id,
    email,
    password: laravelBcrypt(password),
    two_factor_secret: null,
    two_factor_recovery_codes: null,
    two_factor_confirmed_at: null,
    ...tf?.columns,
  };
  const who: EconobisPerson = { econobisId: id, email, password, ...(tf && (options.confirmed ?? true) ? { secret: tf.secret, recoveryCode: tf.recoveryCode } : {}) };
  return { row, who };
}

const staffRow = (p: { row: Row }, extra: Row): Row => ({ ...p.row, active: 1, roles: [], require_two_factor_authentication: 0, ...extra });

export interface EconobisExport {
  format: string;
  cooperation: { require_two_factor_authentication: 0 | 1 } | null;
  users: Row[];
  portal_users: Row[];
}

/** The cooperation "zonnig": what each person's row holds, and the rows that must be refused. */
export function buildEconobisExport(key: Buffer) {
  const anna = person(1, 'Anna@Zonnig.example', key, { twoFactor: true });
  const bram = person(2, 'bram@zonnig.example', key);
  const carla = person(3, 'carla@zonnig.example', key, { twoFactor: true, confirmed: false });
  const dirk = person(4, 'dirk@zonnig.example', key, { twoFactor: true });
  const oud = person(9, 'oud@zonnig.example', key);
  const mia = person(10, 'medewerker@zonnig.example', key); // exists in Sleutel before the import
  const lid1 = person(101, 'lid1@zonnig.example', key, { twoFactor: true });
  const lid2 = person(102, 'lid2@zonnig.example', key);
  const annaPortal = person(103, 'anna@zonnig.example', key);

  const file: EconobisExport = {
    format: 'econobis-users/1',
    cooperation: { require_two_factor_authentication: 1 },
    users: [
      staffRow(anna, { name: 'Anna de Vries', roles: ['Key user', 'Beheerder coöperatie instellingen'], require_two_factor_authentication: 1 }),
      staffRow(bram, { name: 'Bram Bakker' }),
      staffRow(carla, { name: 'Carla Claes', roles: ['Key User'] }),
      // broken: the recovery codes' MAC was altered
      staffRow(dirk, { name: 'Dirk Dekker', two_factor_recovery_codes: alterPayload(dirk.row.two_factor_recovery_codes as string, (p) => (p.mac = p.mac!.replace(/.$/, (c) => (c === 'a' ? 'b' : 'a')))) }),
      // broken: a role Sleutel does not know
      staffRow(person(5, 'eva@zonnig.example', key), { name: 'Eva', roles: ['Medewerker'] }),
      // broken: one address twice (in another case)
      staffRow(person(6, 'dubbel@zonnig.example', key), { name: 'Dubbel Een' }),
      staffRow(person(7, 'DUBBEL@zonnig.example', key), { name: 'Dubbel Twee' }),
      // broken: not an e-mail address
      staffRow(person(8, 'geen-adres', key), { name: 'Geen Adres' }),
      staffRow(oud, { name: 'Oud Medewerker', active: 0 }),
      staffRow(mia, { name: 'Mia Medewerker', roles: ['Key User'] }),
    ],
    portal_users: [
      { ...lid1.row, name: 'Lid Een' } as Row,
      { ...lid2.row, name: 'Lid Twee' },
      { ...annaPortal.row, name: 'Anna de Vries' },
    ],
  };
  return {
    file,
    people: { anna: anna.who, bram: bram.who, carla: carla.who, oud: oud.who, mia: mia.who, lid1: lid1.who, lid2: lid2.who, annaPortal: annaPortal.who },
  };
}
