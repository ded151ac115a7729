import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium, type Browser, type BrowserContext, type Locator, type Page, type Response } from 'playwright-core';
import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * A real Chromium for the screen tests: Debian's package (`apt-get install chromium`), driven by
 * playwright-core. Playwright's own browser download is not used (it cannot work offline).
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const chromiumAvailable = () => fs.existsSync(CHROMIUM_PATH);

export const SCREENS_DIR = path.resolve('test-artifacts', 'screens');

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/**
 * A Sleutel (embedded stores) and a Chromium for a browser suite, started together. Both are
 * started, and both handed back before any failure is thrown, so the suite's afterAll stops what
 * did start.
 */
export async function startServerAndChromium(env?: Record<string, string>): Promise<{ server?: TestServer; browser?: Browser; failure?: unknown }> {
  const [started, launched] = await Promise.allSettled([startServer('embedded', env ? { env } : {}), launchChromium()]);
  const failure = [started, launched].find((outcome) => outcome.status === 'rejected') as PromiseRejectedResult | undefined;
  return {
    server: started.status === 'fulfilled' ? started.value : undefined,
    browser: launched.status === 'fulfilled' ? launched.value : undefined,
    failure: failure?.reason,
  };
}

/** jsqr is CommonJS whose typings describe an ES default export; at run time the module itself is the function. */
type JsQR = (data: Uint8ClampedArray, width: number, height: number) => { data: string } | null;
const jsQR: JsQR = ((jsQRModule as unknown as { default?: JsQR }).default ?? jsQRModule) as unknown as JsQR;

/** Reads the QR code an element shows, from a screenshot of that element (as a phone camera would). */
export async function readQrCode(element: Locator): Promise<string> {
  const png = PNG.sync.read(await element.screenshot());
  const found = jsQR(new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.length), png.width, png.height);
  if (!found) throw new Error(`no QR code found in the ${png.width}×${png.height} screenshot of the element`);
  return found.data;
}

// axe-core is evaluated as a string through the DevTools protocol: page.addScriptTag({ path }) would
// add an inline <script>, which our CSP (script-src 'self') rightly blocks, and page.evaluate is not
// subject to the page's CSP. So the pages are tested with their real CSP (no bypassCSP) and no
// <script> element is ever added to them.
const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/** axe's violations of impact serious or critical on the current page. */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate('typeof window.axe === "object"'))) await page.evaluate(axeSource);
  // in-page code is passed as a string: the tests are type-checked without the DOM library
  const violations = (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((result) =>
    result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })) })))`)) as AxeViolation[];
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/**
 * Remembers, per page, the last HTML document the main frame received (redirects skipped), so a
 * test can check the headers of the screen it is looking at.
 */
export function trackDocuments(page: Page): () => Response | undefined {
  let last: Response | undefined;
  page.on('response', (response) => {
    const request = response.request();
    if (!request.isNavigationRequest() || response.frame() !== page.mainFrame()) return;
    if (response.status() >= 300 && response.status() < 400) return;
    last = response;
  });
  return () => last;
}

/** Counts the script requests a context makes (there must be none: the screens have no JavaScript). */
export function countScriptRequests(context: BrowserContext): () => string[] {
  const scripts: string[] = [];
  context.on('request', (request) => {
    if (request.resourceType() === 'script') scripts.push(request.url());
  });
  return () => scripts;
}

/** Clicks and waits for the navigation the click starts (a form post and its redirects) to load. */
export async function clickAndLoad(page: Page, target: Locator): Promise<void> {
  const navigated = page.waitForEvent('framenavigated', { predicate: (frame) => frame === page.mainFrame(), timeout: 15_000 });
  await target.click();
  await navigated;
  await page.waitForLoadState('load');
}
