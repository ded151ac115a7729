import { describe, expect, test } from '@jest/globals';
import { chooseLocale, LOCALES, Views } from '../../src/http/views.js';

describe('language of the screens', () => {
  test.each([
    [undefined, undefined, 'nl'],
    ['en', undefined, 'en'],
    ['fr en', 'nl', 'en'],
    ['de', 'de-DE,en;q=0.5', 'en'],
    [undefined, 'en-GB,en;q=0.9,nl;q=0.8', 'en'],
    [undefined, 'nl-BE,nl;q=0.9,en;q=0.8', 'nl'],
    [undefined, 'en;q=0.2,nl;q=0.9', 'nl'],
    [undefined, 'fr-FR', 'nl'],
    [undefined, 'en;q=0', 'nl'],
    [undefined, ';;;,q=,', 'nl'],
  ])('ui_locales=%s Accept-Language=%s → %s', (ui, header, expected) => {
    expect(chooseLocale(ui, header)).toBe(expected);
  });

  test('both catalogues have the same keys', () => {
    const views = new Views();
    const nl = views.translator('nl');
    const en = views.translator('en');
    expect(nl('login.title')).toBe('Inloggen');
    expect(en('login.title')).toBe('Sign in');
    expect(LOCALES).toEqual(['nl', 'en']);
  });

  test('values are escaped in templates', () => {
    const html = new Views().render('login', 'nl', { uid: 'u', csrf: 'c', email: '"><script>alert(1)</script>' });
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('&quot;&gt;&lt;script&gt;');
  });
});
