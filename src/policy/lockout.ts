/**
 * Progressive lockout after failures, as Econobis does today (docs/rules.md § Security bar): the
 * 5th failure locks for 15 minutes, the 10th (and every 5th after it) for an hour; never
 * permanently (an admin can unblock earlier). Failures are counted in a window that starts at the
 * first one and is cleared by a successful sign-in.
 */
export const FAILURE_WINDOW_SECONDS = 24 * 3600;

/**
 * How long to lock after the `failures`-th failure; 0 for no lock now. `scale` multiplies the
 * thresholds: an IP address is shared by a whole office (a cooperative's NAT), so it gets 4×.
 */
export function lockSecondsAfter(failures: number, scale = 1): number {
  const step = 5 * scale;
  if (failures < step || failures % step !== 0) return 0;
  return failures === step ? 15 * 60 : 3600;
}

export const IP_SCALE = 4;

/** Wrong codes allowed within one login challenge before it ends. */
export const MAX_CODE_ATTEMPTS_PER_CHALLENGE = 5;
