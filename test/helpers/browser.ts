import { parse, type HTMLElement } from 'node-html-parser';
import { CookieJar } from 'tough-cookie';

export interface Page {
  status: number;
  url: string;
  headers: Headers;
  body: string;
  html(): HTMLElement;
}

/**
 * A browser without JavaScript: a cookie jar, manual redirects, form submission. Enough to drive
 * the screens exactly as a person's browser would (cookies, SameSite aside).
 */
export class Browser {
  readonly jar = new CookieJar();

  constructor(
    private readonly acceptLanguage = 'nl',
    private readonly userAgent?: string,
  ) {}

  async request(url: string, init: { method?: string; form?: Record<string, string | string[]>; body?: string | Buffer; contentType?: string } = {}): Promise<Page> {
    const headers: Record<string, string> = { 'accept-language': this.acceptLanguage, accept: 'text/html' };
    const cookie = await this.jar.getCookieString(url);
    if (cookie) headers.cookie = cookie;
    if (this.userAgent) headers['user-agent'] = this.userAgent;
    let body: string | Buffer | undefined = init.body;
    if (init.form) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(init.form)) for (const item of [v].flat()) params.append(k, item);
      body = params.toString();
    }
    if (body !== undefined) headers['content-type'] = init.contentType ?? 'application/x-www-form-urlencoded';
    const response = await fetch(url, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body, redirect: 'manual' });
    for (const setCookie of response.headers.getSetCookie()) await this.jar.setCookie(setCookie, url, { ignoreError: true });
    const text = await response.text();
    return { status: response.status, url, headers: response.headers, body: text, html: () => parse(text) };
  }

  /** Follows redirects; stops at a page, or at a Location that `stopAt` accepts (the RP's callback). */
  async follow(url: string, stopAt: (location: string) => boolean = () => false, init: Parameters<Browser['request']>[1] = {}): Promise<Page> {
    let page = await this.request(url, init);
    for (let hops = 0; hops < 20; hops += 1) {
      const location = page.headers.get('location');
      if (page.status < 300 || page.status >= 400 || !location) return page;
      const next = new URL(location, page.url).href;
      if (stopAt(next)) return { ...page, url: next };
      page = await this.request(next);
    }
    throw new Error('too many redirects');
  }

  /** Submits the page's form (the first, or the one whose action contains `actionPart`) with `fields` added. */
  async submit(page: Page, fields: Record<string, string | string[]>, stopAt?: (location: string) => boolean, actionPart?: string): Promise<Page> {
    const forms = page.html().querySelectorAll('form');
    const form = actionPart ? forms.find((f) => f.getAttribute('action')?.includes(actionPart)) : forms[0];
    if (!form) throw new Error(`no form on ${page.url}: ${page.body.slice(0, 300)}`);
    const hidden: Record<string, string> = {};
    for (const input of form.querySelectorAll('input[type=hidden]')) hidden[input.getAttribute('name')!] = input.getAttribute('value') ?? '';
    const action = new URL(form.getAttribute('action') ?? page.url, page.url).href;
    return this.follow(action, stopAt, { method: 'POST', form: { ...hidden, ...fields } });
  }
}

/** The visible message of a screen: an error (role=alert), else a notice (role=status). */
export function messageOf(page: Page): string | undefined {
  const html = page.html();
  return (html.querySelector('[role=alert]') ?? html.querySelector('[role=status]') ?? html.querySelector('main p'))?.text.trim();
}
