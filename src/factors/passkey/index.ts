export { PasskeyChallenges, CHALLENGE_TTL_SECONDS, CEREMONY_TIMEOUT_MS, type PasskeyPurpose } from './challenges.js';
export {
  PasskeyFactor,
  MAX_PASSKEYS_PER_ACCOUNT,
  counterWentUp,
  type AuthenticationRefusal,
  type AuthenticationResult,
  type PasskeyHolder,
  type RegistrationRefusal,
  type RegistrationResult,
} from './passkey-factor.js';
export { passkeyAmr, type PasskeyAmr } from './passkey-amr.js';
export { relyingPartyFromIssuer, type RelyingParty } from './relying-party.js';
export { MAX_RESPONSE_LENGTH, normalizePasskeyName } from './responses.js';
