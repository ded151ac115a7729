import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { z } from 'zod';

/**
 * Reading what the browser posts (the JSON of @simplewebauthn/browser's startRegistration or
 * startAuthentication, in one form field) before anything is looked up or used: bounded in size
 * as a whole and per field, base64url where WebAuthn says so. Anything else is `undefined`, which
 * the factor answers with `malformed`.
 */

/** The whole field; a real response is 1–3 KiB (an attestation `none` carries no certificates). */
export const MAX_RESPONSE_LENGTH = 64 * 1024;

const base64url = (max: number) => z.string().min(1).max(max).regex(/^[A-Za-z0-9_-]+$/, 'base64url');
// WebAuthn allows credential ids up to 1023 bytes, 1364 base64url characters
const credentialId = base64url(1400);
const KNOWN_TRANSPORTS = new Set(['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb']);

const common = {
  id: credentialId,
  rawId: credentialId,
  type: z.literal('public-key'),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional().catch(undefined),
  // extension outputs are not used; kept only as an empty object for the library
  clientExtensionResults: z.unknown().transform(() => ({})),
};

const registrationSchema = z.object({
  ...common,
  response: z.object({
    clientDataJSON: base64url(8192),
    attestationObject: base64url(32 * 1024),
    // transports the browser names; unknown future ones are dropped rather than refused
    transports: z
      .array(z.string().max(32))
      .max(16)
      .optional()
      .transform((t) => (t ?? []).filter((x) => KNOWN_TRANSPORTS.has(x))),
  }),
});

const authenticationSchema = z.object({
  ...common,
  response: z.object({
    clientDataJSON: base64url(8192),
    authenticatorData: base64url(4096),
    // large enough for RS256 with a 4096-bit key and for post-quantum signatures
    signature: base64url(8192),
    userHandle: base64url(512).optional(),
  }),
});

function parseJson(raw: unknown): unknown {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > MAX_RESPONSE_LENGTH) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

export function parseRegistrationResponse(raw: unknown): RegistrationResponseJSON | undefined {
  const parsed = registrationSchema.safeParse(parseJson(raw));
  if (!parsed.success || parsed.data.id !== parsed.data.rawId) return undefined;
  return parsed.data as RegistrationResponseJSON;
}

export function parseAuthenticationResponse(raw: unknown): AuthenticationResponseJSON | undefined {
  const parsed = authenticationSchema.safeParse(parseJson(raw));
  if (!parsed.success || parsed.data.id !== parsed.data.rawId) return undefined;
  return parsed.data as AuthenticationResponseJSON;
}

/** The holder's label for a passkey: 1–100 characters after trimming, no control characters. */
export function normalizePasskeyName(raw: unknown): string | undefined {
  if (typeof raw !== 'string' || raw.length > 400) return undefined;
  const name = raw.normalize('NFC').trim();
  if (name.length === 0 || [...name].length > 100) return undefined;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(name)) return undefined;
  return name;
}
