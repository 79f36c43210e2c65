/**
 * How a Namirial VerifID enrollment maps onto our outcomes: pure functions, shared by the workflow
 * (which decides) and the activities (which keep the final resource as evidence). Deterministic.
 */
import type { VerificationOutcome, VerificationStatus } from './shared';

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

/** Each code: the normalized outcome and the reason an operator reads. */
export const NAMIRIAL_ERROR_OUTCOMES: Record<
  NamirialErrorCode,
  { outcome: 'rejected' | 'expired' | 'error'; reason: string }
> = {
  NotSupportedDocument: { outcome: 'rejected', reason: 'the identity document the user provided is not supported' },
  RequestAlteredInfo: { outcome: 'rejected', reason: 'the verification data was altered during the onboarding' },
  RequestIsExpired: { outcome: 'expired', reason: 'the enrollment request expired at Namirial' },
  RequestInvalidInfo: { outcome: 'rejected', reason: 'the enrollment data is not correct for the identified person' },
  UnexpectedFailure: { outcome: 'error', reason: 'Namirial failed unexpectedly while processing the enrollment' },
  OnBoardingProviderError: { outcome: 'error', reason: 'the onboarding provider behind Namirial had a problem' },
  PdfValidationError: { outcome: 'rejected', reason: 'the PDF certificate validation failed' },
};

/** States after which nothing changes (assumed: the doc shows only "New"). */
export const NAMIRIAL_FINAL_STATES = ['Completed', 'Failed', 'Expired'] as const;

export function namirialIsFinal(state: string, outcome: string | null): boolean {
  return outcome !== null || (NAMIRIAL_FINAL_STATES as readonly string[]).includes(state);
}

export function isNamirialErrorCode(s: string): s is NamirialErrorCode {
  return (NAMIRIAL_ERROR_CODES as readonly string[]).includes(s);
}

export interface NamirialDecision {
  status: Extract<VerificationStatus, 'completed' | 'failed' | 'expired'>;
  outcome: VerificationOutcome;
  reason: string;
}

/** The outcome of an enrollment that has ended, from the State and Outcome Namirial answered. */
export function decideNamirialOutcome(state: string, outcome: string | null): NamirialDecision {
  if (state === 'Completed' && outcome === 'Success') {
    return {
      status: 'completed',
      outcome: 'approved',
      reason: 'Namirial completed the enrollment with outcome Success',
    };
  }
  if (outcome !== null && isNamirialErrorCode(outcome)) {
    const m = NAMIRIAL_ERROR_OUTCOMES[outcome];
    const status = m.outcome === 'expired' ? 'expired' : m.outcome === 'rejected' ? 'completed' : 'failed';
    return { status, outcome: m.outcome, reason: `${m.reason} (${outcome})` };
  }
  if (state === 'Expired')
    return { status: 'expired', outcome: 'expired', reason: 'the enrollment request expired at Namirial' };
  return {
    status: 'failed',
    outcome: 'error',
    reason: `Namirial ended the enrollment in state ${state} with outcome ${outcome ?? 'none'}, which we do not know`,
  };
}
