/**
 * The bundled list of common passwords (docs/rules.md § Security bar): zxcvbn's list of the
 * ~49 000 most common passwords, plus Dutch ones that list misses. Compared case-insensitively.
 * Loaded and built on first use, not at start: only a password change needs it, and the list is a
 * few MB of heap.
 */
const DUTCH = [
  'wachtwoord', 'wachtwoord1', 'wachtwoord123', 'welkom', 'welkom01', 'welkom123', 'welkom2024', 'welkom2025', 'welkom2026',
  'geheim', 'geheim123', 'voetbal', 'voetbal1', 'ajax1900', 'feyenoord', 'nederland', 'nederland1', 'amsterdam', 'rotterdam',
  'zonnepaneel', 'zonnepanelen', 'energie', 'energie123', 'cooperatie', 'coöperatie', 'econobis', 'econobis1', 'econobis123',
  'mijnenergiesamen', 'zomer2025', 'winter2025', 'lente2026', 'herfst2026', 'qwerty123', 'azerty123', 'hallo123', 'hallohallo',
];

let list: Promise<Set<string>> | undefined;

/** The check itself, once the list is loaded. */
export async function commonPasswordCheck(): Promise<(password: string) => boolean> {
  list ??= import('@zxcvbn-ts/language-common').then(({ dictionary }) => new Set([...dictionary['passwords-common'], ...DUTCH].map((p) => p.toLowerCase())));
  const loaded = await list;
  return (password) => loaded.has(password.toLowerCase());
}
