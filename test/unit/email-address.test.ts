import { describe, expect, test } from '@jest/globals';
import { check, email } from '../../src/cli/validation.js';
import { fields } from '../../src/http/forms.js';
import { createAccountBody } from '../../src/http/manage/schemas.js';
import { canonicalEmail } from '../../src/policy/email-address.js';

/** The canonical form of an address (issue 20): what "the same address" means everywhere. */
describe('canonicalEmail', () => {
  const nfdE = 'e\u0301';
  test.each([
    // [input, canonical form or the problem]
    ['anna@example.com', 'anna@example.com'],
    ['Anna@Example.com', 'anna@example.com'],
    ['ANNA@EXAMPLE.COM', 'anna@example.com'],
    ['  anna@example.com\t', 'anna@example.com'],
    ["o'brien+tag@example.com", "o'brien+tag@example.com"],
    // the domain through IDNA: case, fullwidth, compatibility forms, invisible joiners, NFC/NFD
    ['anna@ÉXAMPLE.com', 'anna@xn--xample-9ua.com'],
    [`anna@${nfdE}xample.com`, 'anna@xn--xample-9ua.com'],
    ['anna@éxample.com', 'anna@xn--xample-9ua.com'],
    ['anna@ｅｘａｍｐｌｅ．ｃｏｍ', 'anna@example.com'],
    ['anna@exam\u200Bple.com', 'anna@example.com'],
    ['anna@\u212Aelvin.nl', 'anna@kelvin.nl'],
    ['anna@ſtrasse.de', 'anna@strasse.de'],
    ['anna@straße.de', 'anna@xn--strae-oqa.de'],
    ['anna@STRASSE.de', 'anna@strasse.de'],
    ['anna@İstanbul.tr', 'anna@xn--istanbul-o0e.tr'],
    ['anna@i\u0307stanbul.tr', 'anna@xn--istanbul-o0e.tr'],
    ['anna@istanbul.tr', 'anna@istanbul.tr'],
    ['anna@exаmple.com' /* Cyrillic а */, 'anna@xn--exmple-4nf.com'],
    ['anna@０１２.nl', 'anna@012.nl'],
    ['anna@xn--caf-dma.nl', 'anna@xn--caf-dma.nl'],
    ['anna@café.nl', 'anna@xn--caf-dma.nl'],
    // the local part: ASCII only, ASCII letters lowercased
    ['İlse@example.com', 'non_ascii_local_part'],
    ['i\u0307lse@example.com', 'non_ascii_local_part'],
    ['straße@example.com', 'non_ascii_local_part'],
    ['ſtrasse@example.com', 'non_ascii_local_part'],
    ['\u212Aim@example.com', 'kim@example.com'], // NFC maps the Kelvin sign to K (a canonical equivalent)
    ['ａnna@example.com', 'non_ascii_local_part'],
    ['an\u200Bna@example.com', 'non_ascii_local_part'],
    ['josé@example.com', 'non_ascii_local_part'],
    // not addresses
    ['', 'missing'],
    ['   ', 'missing'],
    ['anna', 'invalid'],
    ['anna@', 'invalid'],
    ['@example.com', 'invalid'],
    ['anna@example', 'invalid'],
    ['anna@example.com.', 'invalid'],
    ['anna@-example.com', 'invalid'],
    ['anna@exa_mple.com', 'invalid'],
    ['anna@exa mple.com', 'invalid'],
    ['an na@example.com', 'invalid'],
    ['"anna"@example.com', 'invalid'],
    ['anna@b@example.com', 'invalid'],
    ['anna＠example.com', 'invalid'],
    ['anna@[127.0.0.1]', 'invalid'],
    ['anna\u0000@example.com', 'invalid'],
    ['anna@exam\u0000ple.com', 'invalid'],
    ['anna\uD800@example.com', 'invalid'],
    ['anna@xn--zz.nl', 'invalid'],
    [`${'a'.repeat(65)}@example.com`, 'too_long'],
    [`a@${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.${'e'.repeat(60)}.${'f'.repeat(10)}.nl`, 'too_long'],
    [`a@${'x'.repeat(2000)}.nl`, 'too_long'],
  ])('%j → %s', (input, expected) => {
    const check = canonicalEmail(input);
    if (expected.includes('@')) expect(check).toEqual({ ok: true, address: expected });
    else expect(check).toEqual({ ok: false, problem: expected });
  });

  test('the canonical form is a fixed point', () => {
    for (const input of ['Anna@ÉXAMPLE.com', 'x@ｅｘａｍｐｌｅ．ｃｏｍ', 'B@straße.de']) {
      const once = canonicalEmail(input);
      expect(once.ok).toBe(true);
      if (once.ok) expect(canonicalEmail(once.address)).toEqual(once);
    }
  });

  test('the screens, the API and the CLI give the canonical form, and refuse with their own wording', () => {
    expect(fields.email.parse(' Anna@ＥXAMPLE.com ')).toBe('anna@example.com');
    expect(fields.email.safeParse('İlse@example.com').error?.issues[0]?.message).toBe('form.email_non_ascii');
    expect(fields.email.safeParse('anna@').error?.issues[0]?.message).toBe('form.email_invalid');
    expect(fields.email.safeParse('').error?.issues[0]?.message).toBe('form.email_missing');
    expect(createAccountBody.parse({ pool: 'portal', email: 'Anna@Éxample.com' }).email).toBe('anna@xn--xample-9ua.com');
    expect(createAccountBody.safeParse({ pool: 'portal', email: 'jörg@example.com' }).error?.issues[0]?.message).toBe('has characters other than ASCII before the @ (not supported)');
    expect(check(email, 'Anna@Example.COM', '--email')).toBe('anna@example.com');
    expect(() => check(email, 'jörg@example.com', '--email')).toThrow('--email: has characters other than ASCII before the @ (not supported)');
  });
});
