/**
 * Finwave sandbox: the Digital Onboarding API of ../shared/vendor-docs/finwave-digital-onboarding.txt,
 * served under `/finwave` (so the base URL is `<sandbox>/finwave/management`).
 *
 * The vendor API it serves (endpoints, bodies, statuses, error shapes, the assumptions beyond the doc) is
 * described once, in activities/finwave/api.ts, the module our activities call it with. Here: ./model.ts
 * (onboardings, their status flow, webhooks), ./routes.ts (the vendor API), ./control.ts (the user's page
 * and `/_sandbox`), ./documents.ts (the result JSON and the evidence ZIP).
 *
 * Sandbox choices: webhooks are retried with backoff until answered 2xx; a repeated create for a
 * not-yet-started process answers 200 with the same URL; the user's session times out after
 * `sessionTimeoutMs` (30 minutes by default) with errorEvent TIME_EXPIRED.
 */
export { FinwaveSandbox } from './model';
export { registerFinwaveSandbox } from './routes';
export { FINWAVE_SCENARIOS, type FinwaveSandboxOptions } from './types';
