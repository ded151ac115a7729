import type { Page } from './browser.js';

/** What a login screen shows, recognised by its forms (the same in every suite). */

/** A form on a page whose action ends with `suffix`. */
export const formWithAction = (page: Page, suffix: string) => page.html().querySelectorAll('form').find((f) => (f.getAttribute('action') ?? '').endsWith(suffix));
/** The enrollment screen inside a login: QR image, key and the confirm form. */
export const isEnrollment = (page: Page) => Boolean(page.html().querySelector('img.qr')) && Boolean(page.html().querySelector('.key code')) && Boolean(formWithAction(page, '/enroll'));
export const hasSkip = (page: Page) => Boolean(formWithAction(page, '/enroll/skip'));
export const isChallenge = (page: Page) => Boolean(formWithAction(page, '/code')?.querySelector('input[name=code]'));
