/**
 * Fourthline French solution activities (../shared/vendor-docs/fourthline-french-idv-qes.txt). The API
 * they call (endpoints, statuses, bodies) is described in ./api.ts, shared with sandboxes/fourthline;
 * ./client.ts holds the token and the authenticated call, ./case.ts and ./signature.ts the activities.
 *
 * Idempotency: Temporal retries an activity whose answer was lost (a reset after the
 * vendor applied the call, a worker killed mid-call). How each state-changing call's retry finds out
 * what the first attempt did:
 * | operation           | on a retry (attempt > 1)                                                        |
 * |---------------------|---------------------------------------------------------------------------------|
 * | createWorkflow      | the doc gives no idempotency key, no look-up by our clientReference and no delete: a retry after a lost answer can make a second case. The create's heartbeats mark the attempt (activities/http.ts `unansweredCreate`); the answer carries `createsUnanswered`, the earlier attempts that sent it unanswered, and the workflow records them (`facts.vendorDuplicates`) and flags `VerificationAttention = vendor-duplicate-possible`. The orphan's id is not learnt (its case webhooks name an id we do not know: 404) and it decides nothing; Fourthline has no cancel or delete to call |
 * | uploadIdentityData/Files | the case status is read first: not `new` any more = already uploaded      |
 * | startProcessing     | the case status is read first: not `pending` any more = already started        |
 * | approve             | the signature status is read first: not `user_consent_required` any more = the approval went through; its status is the answer (attemptId null: lost with the answer) |
 * | confirm             | the status is read first: not `confirmation_required` any more = confirmed. The passcode stays in the store until the step is decided (success, or a refusal), never deleted on a retryable failure |
 * | resendPasscode      | the workflow passes how many resends it already made; the details' `resendsLeft` tells whether this one went through (no second SMS, no quota spent twice) |
 * | uploadDocuments     | the signature details are read first, on attempt 1 too (a repeated step is a new activity): the same document names already there = uploaded (not sent twice) |
 * | uploadMobileNumber  | the signature status is read first: not `pending` any more = the number went through; that status is the answer |
 * | uploadSelfie        | the signature status is read first: not `selfie_required` any more = the selfie went through; that status is the answer |
 *
 * Personal data (identity data, mobile number, selfie, passcode) reaches these activities as
 * evidence-store references: the bytes are read here and never returned to the workflow.
 */
import { fourthlineCaseActivities } from './case';
import { fourthlineClient, type FourthlineDeps } from './client';
import { fourthlineSignatureActivities } from './signature';

export {
  FOURTHLINE_CASE_STATUSES,
  FOURTHLINE_SIGNATURE_STATUSES,
  type FourthlineCaseStatus,
  type FourthlineSignatureStatus,
} from './api';
export {
  FourthlineTokenCache,
  type FourthlineCaseSummary,
  type FourthlineDeps,
  type FourthlineSignatureSummary,
} from './client';
export type { FourthlineSignatureDetails } from './signature';

export function createFourthlineActivities({ config, store }: FourthlineDeps) {
  const fl = fourthlineClient({ config, store });
  return { ...fourthlineCaseActivities(fl, store), ...fourthlineSignatureActivities(fl, store) };
}

export type FourthlineActivities = ReturnType<typeof createFourthlineActivities>;
