/**
 * Fourthline's clocks and quotas from the doc (../shared/vendor-docs/fourthline-french-idv-qes.txt),
 * re-exported by ./api.ts. No imports at all, so the workflow bundle may import them and stays free of zod.
 */

const HOUR = 3_600_000;

/** The doc's clocks: token lifetime, approval / confirmation windows, passcode validity, the 24 h expiry. */
export const FOURTHLINE_WINDOWS = {
  tokenTtlMs: HOUR,
  approvalWindowMs: 2 * HOUR,
  confirmationWindowMs: HOUR,
  passcodeValidityMs: 2 * HOUR,
  /** An unfinished signature (consent, confirmation or selfie required) turns to `error` after this. */
  errorAfterMs: 24 * HOUR,
  selfieWindowMs: 24 * HOUR,
} as const;

/** The passcode resend quota (the doc: at most 4). */
export const FOURTHLINE_MAX_RESENDS = 4;
