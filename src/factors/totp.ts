import { createGuardrails, generate, generateSecret, generateURI, verify } from 'otplib';

/**
 * The TOTP factor (docs/rules.md, rule 1): RFC 6238, SHA1, 6 digits, 30 s, one step of tolerance each
 * way. Secrets are 160 bits, base32 as authenticator apps expect. This module is the one place
 * that builds the otpauth URI and its QR code.
 */
export const PERIOD_SECONDS = 30;
const TOLERANCE_SECONDS = PERIOD_SECONDS; // ±1 step

/**
 * Secrets imported from Econobis are Google2FA's default of 16 base32 characters (80 bits), below
 * otplib's 128-bit floor; codes for them must still be checked. Only checking is relaxed: every
 * secret made here is 160 bits, and the importer refuses secrets under 80 bits.
 */
export const MIN_SECRET_BYTES = 10;
const guardrails = createGuardrails({ MIN_SECRET_BYTES });

/** A base32 key of 80 to 512 bits, as an imported secret must be (otplib takes up to 64 bytes). */
export function isUsableTotpSecret(secret: string): boolean {
  const bytes = Math.floor((secret.length * 5) / 8);
  return /^[A-Z2-7]+$/.test(secret) && bytes >= MIN_SECRET_BYTES && bytes <= 64;
}

export function newTotpSecret(): string {
  return generateSecret({ length: 20 });
}

/** Exactly six ASCII digits; anything else is a malformed code, not a wrong one. */
export function isWellFormedCode(code: string): boolean {
  return /^[0-9]{6}$/.test(code);
}

/**
 * The time step the code belongs to, or undefined when it is wrong, outside ±1 step, or of a
 * step not after `afterTimeStep` (a replay). The caller records the step atomically.
 */
export async function matchTotp(secret: string, code: string, afterTimeStep?: number, epochSeconds?: number): Promise<number | undefined> {
  if (!isWellFormedCode(code)) return undefined;
  const result = await verify({
    secret,
    token: code,
    guardrails,
    epochTolerance: TOLERANCE_SECONDS,
    ...(afterTimeStep === undefined ? {} : { afterTimeStep }),
    ...(epochSeconds === undefined ? {} : { epoch: epochSeconds }),
  });
  return result.valid && 'timeStep' in result ? result.timeStep : undefined;
}

/** The current code (tests and the benchmark use an independent implementation; this is for tools). */
export function currentTotp(secret: string, epochSeconds?: number): Promise<string> {
  return generate({ secret, guardrails, ...(epochSeconds === undefined ? {} : { epoch: epochSeconds }) });
}

export interface Provisioning {
  /** the key as text, in groups of four for typing it into an app */
  key: string;
  uri: string;
  /** a PNG data URL of the QR code of `uri` */
  qrCode: string;
}

/** What the enrollment screen shows: the QR code and the key as text, with the tenant's issuer label. */
export async function provisioning(secret: string, issuer: string, accountName: string): Promise<Provisioning> {
  // apps split the label "issuer:account" at the first colon, so the issuer may not contain one
  const uri = generateURI({ issuer: issuer.replace(/:/g, ''), label: accountName, secret });
  // loaded on the first enrollment, not at start: most processes never draw a QR code
  const { default: QRCode } = await import('qrcode');
  const qrCode = await QRCode.toDataURL(uri, { errorCorrectionLevel: 'M', margin: 2, width: 240 });
  return { key: secret.replace(/(.{4})(?=.)/g, '$1 '), uri, qrCode };
}
