import { dictionary } from '@zxcvbn-ts/language-common';

/**
 * The bundled list of common passwords (DESIGN §6): zxcvbn's list of the ~49 000 most common
 * passwords, plus Dutch ones that list misses. Compared case-insensitively. Built on first use,
 * not at start.
 */
const DUTCH = [
  'wachtwoord', 'wachtwoord1', 'wachtwoord123', 'welkom', 'welkom01', 'welkom123', 'welkom2024', 'welkom2025', 'welkom2026',
  'geheim', 'geheim123', 'voetbal', 'voetbal1', 'ajax1900', 'feyenoord', 'nederland', 'nederland1', 'amsterdam', 'rotterdam',
  'zonnepaneel', 'zonnepanelen', 'energie', 'energie123', 'cooperatie', 'coöperatie', 'econobis', 'econobis1', 'econobis123',
  'mijnenergiesamen', 'zomer2025', 'winter2025', 'lente2026', 'herfst2026', 'qwerty123', 'azerty123', 'hallo123', 'hallohallo',
];

let list: Set<string> | undefined;

export function isCommonPassword(password: string): boolean {
  list ??= new Set([...dictionary['passwords-common'], ...DUTCH].map((p) => p.toLowerCase()));
  return list.has(password.toLowerCase());
}
