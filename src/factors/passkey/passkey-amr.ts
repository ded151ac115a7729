import type { PasskeyDeviceType } from '../../stores/passkeys.js';

/** The `amr` values (RFC 8176) a passkey earns. */
export type PasskeyAmr = 'hwk' | 'swk';

/**
 * `hwk` ("proof-of-possession of a hardware-secured key") for a device-bound credential: the
 * authenticator says it cannot be backed up (BE flag clear, `singleDevice`), so the private key
 * never leaves that security key or chip. `swk` ("… of a software-secured key") for a synced
 * passkey (`multiDevice`, backed up or eligible to be at any moment): its private key is copied
 * by a password manager or platform account, so it is no longer bound to one piece of hardware.
 * Both resist phishing the same way (the browser signs for our origin only).
 */
export function passkeyAmr(deviceType: PasskeyDeviceType, backedUp: boolean): PasskeyAmr {
  return deviceType === 'singleDevice' && !backedUp ? 'hwk' : 'swk';
}
