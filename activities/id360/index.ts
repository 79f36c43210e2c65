/**
 * ID360 (Docaposte) enrollment activities (../shared/vendor-docs/id360-docaposte-enrollment.txt). The API
 * they call (endpoints, statuses, bodies, assumptions beyond the doc) is described in ./api.ts, shared
 * with sandboxes/id360; ./enrollment.ts creates the enrollment and does its steps, ./results.ts reads its
 * status and reports, ../id360-session.ts holds the login token (T calls), ./context.ts the rest.
 *
 * How we use it:
 * - We register one callback endpoint with `on: []` (every status) and one header, `X-Idv-Callback-Token`,
 *   an HMAC of the verification id.
 * - A report or PDF answered 409 REPORT_NOT_AVAILABLE is retried (a verdict seen by polling can precede the
 *   final callback, after which alone the doc says the report exists).
 * - Retries: a finalize or a locked data comparison repeated after a lost answer meets 409
 *   ENROLLMENT_ALREADY_FINALIZED / DATA_LOCKED; on a retry attempt (not the first) that means our earlier
 *   attempt went through, and is taken as success.
 * - createEnrollment: ID360 documents `client_reference` (ours: the caller's reference) but no look-up by it,
 *   no idempotency key and no delete call, so a create repeated after a lost answer can make a second
 *   enrollment. The create's heartbeats mark the attempt (http.ts `unansweredCreate`); the answer carries
 *   `createsUnanswered` and the workflow flags `VerificationAttention = vendor-duplicate-possible`. Every
 *   enrollment of this verification calls back to this verification's own URL (with its header), so the
 *   orphan's id arrives with its first callback (a status change, at the latest ERL_TIMEOUT after 24 h):
 *   the workflow records it (`facts.vendorDuplicates`, `vendor-duplicate`), and it never decides the outcome.
 *   No documented cancel or delete: ID360's own expiry ends it.
 *
 * Secrets: the login token stays in Id360Session; the api_key is sealed (id360-secrets.ts) before it leaves
 * the create activity, and opened only inside the activities that send it.
 */
import { id360Context } from './context';
import { id360EnrollmentActivities } from './enrollment';
import { id360ResultActivities } from './results';
import type { Id360Deps } from './types';

export { ID360_DATA_NAMES, ID360_FINAL_STATUSES, ID360_STATUSES, type Id360DataName, type Id360Status } from './api';
export { id360UserLink, id360VendorUserUrl } from './context';
export { ID360_CALLBACK_HEADER } from './enrollment';
export type {
  Id360Applicant,
  Id360Created,
  Id360CreateInput,
  Id360Deps,
  Id360EnrollmentRef,
  Id360ReportSummary,
} from './types';

export function createId360Activities(deps: Id360Deps) {
  const ctx = id360Context(deps);
  return { ...id360EnrollmentActivities(ctx, deps), ...id360ResultActivities(ctx, deps) };
}

export type Id360Activities = ReturnType<typeof createId360Activities>;
