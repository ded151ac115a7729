import fs from 'node:fs';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import accepts from 'accepts';
import { Eta } from 'eta';
import { DEFAULT_LOCALE, LOCALES, type Locale } from '../locale.js';

/**
 * Renders the screens in interactions/ (templates, message catalogues, stylesheet).
 * Dutch is the default; `ui_locales` (from the authorization request) and Accept-Language choose.
 */
export { LOCALES, type Locale } from '../locale.js';

export const interactionsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../interactions');

type Catalogue = Record<string, string>;

export type Translate = (key: string, params?: Record<string, string | number>) => string;

export class Views {
  private readonly eta = new Eta({ views: path.join(interactionsDir, 'templates'), cache: true, autoEscape: true });
  private readonly catalogues: Record<Locale, Catalogue>;
  readonly stylesheet = fs.readFileSync(path.join(interactionsDir, 'style.css'), 'utf8');

  constructor() {
    this.catalogues = Object.fromEntries(
      LOCALES.map((l) => [l, JSON.parse(fs.readFileSync(path.join(interactionsDir, 'locales', `${l}.json`), 'utf8')) as Catalogue]),
    ) as Record<Locale, Catalogue>;
  }

  translator(locale: Locale): Translate {
    const catalogue = this.catalogues[locale];
    const fallback = this.catalogues.nl;
    return (key, params = {}) =>
      (catalogue[key] ?? fallback[key] ?? key).replace(/\{(\w+)\}/g, (_, name: string) => String(params[name] ?? `{${name}}`));
  }

  /** Renders a template (screens call layout() themselves; `data.title` is a catalogue key). */
  render(template: string, locale: Locale, data: Record<string, unknown> = {}): string {
    return this.eta.render(template, { ...data, locale, t: this.translator(locale) });
  }
}

/** ui_locales (space-separated, in order of preference) first, then Accept-Language, then Dutch. */
export function chooseLocale(uiLocales?: string | null, acceptLanguage?: string | null): Locale {
  for (const tag of (uiLocales ?? '').split(/\s+/)) {
    const base = tag.toLowerCase().split('-')[0] as Locale;
    if (LOCALES.includes(base)) return base;
  }
  // the negotiation Koa's ctx.acceptsLanguages does (q-values, en-GB → en, q=0 refused)
  const chosen = accepts({ headers: { 'accept-language': acceptLanguage ?? '' } } as IncomingMessage).languages([...LOCALES]);
  return acceptLanguage && typeof chosen === 'string' ? (chosen as Locale) : DEFAULT_LOCALE;
}
