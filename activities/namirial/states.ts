/**
 * Namirial VerifID's enrollment states and `verifidError` codes (see ./api.ts, which re-exports them):
 * the part of the API description the workflow decides with. No imports at all, so the workflow
 * bundle stays free of zod.
 */

/** Enrollment states (assumed: the doc shows only "New"). */
export const NAMIRIAL_STATES = ['New', 'Started', 'Completed', 'Failed', 'Expired'] as const;
export type NamirialState = (typeof NAMIRIAL_STATES)[number];
/** States after which nothing changes. */
export const NAMIRIAL_FINAL_STATES = ['Completed', 'Failed', 'Expired'] as const;

/** Whether an enrollment has ended: an Outcome, or a final State. */
export function namirialIsFinal(state: string, outcome: string | null): boolean {
  return outcome !== null || (NAMIRIAL_FINAL_STATES as readonly string[]).includes(state);
}

/** The documented `verifidError` codes. */
export const NAMIRIAL_ERROR_CODES = [
  'NotSupportedDocument',
  'RequestAlteredInfo',
  'RequestIsExpired',
  'RequestInvalidInfo',
  'UnexpectedFailure',
  'OnBoardingProviderError',
  'PdfValidationError',
] as const;
export type NamirialErrorCode = (typeof NAMIRIAL_ERROR_CODES)[number];

export function isNamirialErrorCode(s: string): s is NamirialErrorCode {
  return (NAMIRIAL_ERROR_CODES as readonly string[]).includes(s);
}
