/** The languages of the screens and mails. Dutch is the default. */
export type Locale = 'nl' | 'en';
export const LOCALES: readonly Locale[] = ['nl', 'en'];
export const DEFAULT_LOCALE: Locale = 'nl';
export const isLocale = (value: unknown): value is Locale => value === 'nl' || value === 'en';
