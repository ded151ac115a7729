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
}

export function relyingPartyFromIssuer(issuer: string, name = 'Sleutel'): RelyingParty {
  const url = new URL(issuer);
  return { rpID: url.hostname, origin: url.origin, name };
}
