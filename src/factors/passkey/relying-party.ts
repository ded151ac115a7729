import { isIP } from 'node:net';

/**
 * The WebAuthn relying party is Sleutel itself, named by ISSUER: its host is the RP ID (a passkey
 * is bound to it, so a look-alike host cannot use it) and its origin is the one every response's
 * clientDataJSON must name. ISSUER may carry a path; WebAuthn knows only the origin.
 */
export interface RelyingParty {
  rpID: string;
  origin: string;
  /** shown by the browser's dialog */
  name: string;
  /**
   * Whether browsers will run a ceremony for this ISSUER at all: they require a domain as RP ID
   * (not an IP address such as 127.0.0.1) and a secure context (https, or http on localhost).
   * Where they will not, the screens should not offer passkeys.
   */
  available: boolean;
}

export function relyingPartyFromIssuer(issuer: string, name = 'Sleutel'): RelyingParty {
  const url = new URL(issuer);
  const localhost = url.hostname === 'localhost' || url.hostname.endsWith('.localhost');
  const available = isIP(url.hostname.replace(/^\[|\]$/g, '')) === 0 && (url.protocol === 'https:' || (url.protocol === 'http:' && localhost));
  return { rpID: url.hostname, origin: url.origin, name, available };
}
