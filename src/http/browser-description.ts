import Bowser from 'bowser';
import type { BrowserDescription } from '../stores/remembrances.js';

/**
 * What the account page's list of remembered browsers calls a browser ("Firefox op Windows"):
 * the browser's and the system's names from the User-Agent, by bowser. Only these short names are
 * kept with the remembrance, never the User-Agent itself; a header bowser cannot name gives nothing.
 */
export function describeBrowser(userAgent: string | undefined): BrowserDescription {
  if (!userAgent?.trim()) return {};
  const parsed = Bowser.parse(userAgent.slice(0, 1024));
  const name = (value: string | undefined) => (value?.trim() ? value.trim().slice(0, 64) : undefined);
  return { browser: name(parsed.browser.name), os: name(parsed.os.name) };
}
