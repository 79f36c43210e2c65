/**
 * ID360 (Docaposte) sandbox: the enrollment API of ../shared/vendor-docs/id360-docaposte-enrollment.txt,
 * served under `/id360` (so the host root our service is configured with is `<sandbox>/id360`, and the API
 * lives under `<sandbox>/id360/api/1.0.0`).
 *
 * The vendor API it serves (endpoints, bodies, statuses, error shapes, the assumptions beyond the doc) is
 * described once, in activities/id360/api.ts, the module our activities call it with. Here: ./model.ts
 * (tokens, enrollments, the status flow, callbacks), ./routes.ts (the vendor API), ./control.ts (the
 * user's pages and `/_sandbox`), ./documents.ts (steps, reports, upload sniffing).
 *
 * Sandbox choices: the login token lives `tokenLifetimeMs` (15 minutes); the verdict comes
 * `processingDelayMs` after finalize; an enrollment not finalized within `enrollmentLifetimeMs` (24 h by
 * default; the doc gives no figure) is CANCELED with reason ERL_TIMEOUT. The verdict is the scenario chosen
 * on the control surface (OK by default), or KO when a compared value differs from the sample document.
 */
export { sniffFormat } from './documents';
export { Id360Sandbox } from './model';
export { registerId360Sandbox } from './routes';
export {
  ID360_SAMPLE_IDENTITY,
  type Enrollment,
  type Id360SandboxOptions,
  type Id360Stats,
  type Id360Status,
} from './types';
export { ID360_MAX_UPLOAD_BYTES, ID360_VERDICTS } from '../../activities/id360/api';
