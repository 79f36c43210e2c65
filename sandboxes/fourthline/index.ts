/**
 * Fourthline sandbox: the French solution (identity verification case + qualified electronic
 * signature) of ../shared/vendor-docs/fourthline-french-idv-qes.txt, served under `/fourthline`
 * (API base `<sandbox>/fourthline`).
 *
 * The vendor API it serves (endpoints, bodies, statuses, error shapes) is described once, in
 * activities/fourthline/api.ts, the module our activities call it with. Here: ./model.ts (cases,
 * signatures, their transitions and clocks), ./routes.ts (the vendor API), ./control.ts (`/_sandbox`),
 * ./notifier.ts (webhook deliveries).
 *
 * The vendor's clocks (on the sandbox clock, which `/_sandbox/clock` moves forward): approval more
 * than 2 h after user_consent_required -> 422; confirmation more than 1 h after confirmation_required
 * -> 422; passcode valid 2 h; after 24 h an unfinished signature (user_consent_required,
 * confirmation_required, selfie_required) turns to `error`.
 *
 * Webhooks: on every case and signature status change, a thin `{verificationId|signatureId, status,
 * timestamp}` POSTed to `<caseWebhookUrl>/<verificationId>` or `<signatureWebhookUrl>/<signatureId>`,
 * authenticated with HTTP Basic or with an OAuth client-credentials bearer token obtained from the
 * receiver's token URL (form post, client id/secret in HTTP Basic), retried with backoff.
 *
 * Scenarios, per applicant, chosen by the tag of the email in identity data (`anyone+<scenario>@...`):
 *   completed (default) · pending-match · pending-mismatch (pending flow endings) · invalid-data ·
 *   inconsistent-data · risk-500 (kyc_required) · selfie-required · recoverable-error ·
 *   unrecoverable-error · infocert (contract 200 instead of 204). Signature scenarios play on the
 *   first signature attempt only, so that a signature-only retry can succeed. A wrong passcode is any
 *   other code than the one sent (422 INVALID_PASSCODE).
 *
 * Control surface (never part of Fourthline's API): ./control.ts and sandboxes/README.md.
 */
import type { FourthlineSandboxOptions } from './types';

export { FourthlineSandbox } from './model';
export { registerFourthlineSandbox } from './routes';
export {
  FOURTHLINE_CLOCKS,
  FOURTHLINE_SCENARIOS,
  LEGAL_CONDITIONS,
  type CaseStatus,
  type FourthlineCase,
  type FourthlineSandboxOptions,
  type FourthlineScenario,
  type FourthlineSignature,
  type SignatureStatus,
  type WebhookAuth,
} from './types';

/** The webhook settings Fourthline would hold for a service at `publicBaseUrl` using these credentials. */
export function fourthlineWebhookSettings(
  publicBaseUrl: string,
  auth:
    { mode: 'basic'; username: string; password: string } | { mode: 'oauth'; clientId: string; clientSecret: string },
): Pick<FourthlineSandboxOptions, 'caseWebhookUrl' | 'signatureWebhookUrl' | 'webhookAuth'> {
  return {
    caseWebhookUrl: `${publicBaseUrl}/webhooks/fourthline/cases`,
    signatureWebhookUrl: `${publicBaseUrl}/webhooks/fourthline/signatures`,
    webhookAuth:
      auth.mode === 'basic' ? auth : { ...auth, tokenUrl: `${publicBaseUrl}/webhooks/fourthline/oauth/token` },
  };
}
