/**
 * How a Namirial VerifID enrollment maps onto our outcomes: pure functions the workflow decides with.
 * The vendor's states and error codes are in activities/namirial/api.ts. Deterministic.
 */
import { isNamirialErrorCode, type NamirialErrorCode } from '../activities/namirial/states';
import type { VerificationOutcome, VerificationStatus } from './shared';

export {
  isNamirialErrorCode,
  NAMIRIAL_ERROR_CODES,
  NAMIRIAL_FINAL_STATES,
  namirialIsFinal,
  type NamirialErrorCode,
} from '../activities/namirial/states';

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
