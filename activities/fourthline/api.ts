/**
 * Fourthline's French solution API (../shared/vendor-docs/fourthline-french-idv-qes.txt), as both our
 * activities (which call it) and the sandbox (which serves it) read it: the one place it is described.
 * Pure (zod and types only): workflow code may import it.
 *
 * The doc names the operations but not their paths: every path and body shape below is an assumption.
 * | operation           | method + path                                 | request -> answer |
 * |---------------------|-----------------------------------------------|-------------------|
 * | createAccessToken   | POST /oauth2/token (FOURTHLINE_TOKEN_PATH)    | client credentials (form or JSON, or HTTP Basic) -> {access_token, expires_in: 3600} |
 * | createWorkflow      | POST /v1/workflows                            | {workflowName, clientReference, verificationId?} -> 201 {workflowId, clientId}; case + signature `new` |
 * | uploadIdentityData  | PUT  /v1/verifications/:id/identity-data      | {person, address, emailAndPhone} -> 204; a second call replaces the first |
 * | uploadIdentityFiles | POST /v1/verifications/:id/identity-files     | {files[]} (base64) -> 204; case -> pending / invalid_data |
 * | startProcessing     | POST /v1/verifications/:id/processing         | 204; case -> inconsistent_data / completed (riskScore) |
 * | getCase             | GET  /v1/verifications/:id                    | {verificationId, clientId, status, riskScore, statusCode} |
 * | getCddReport        | GET  /v1/verifications/:id/cdd-report         | the CDD report ZIP once completed |
 * | uploadDocuments     | POST /v1/signatures/:id/documents             | {documents[]} (base64) -> 204; the status stays pending |
 * | uploadMobileNumber  | PUT  /v1/signatures/:id/mobile-number         | {mobileNumber} -> 204; -> user_consent_required / selfie_required / kyc_required / error |
 * | getSignatureDetails | GET  /v1/signatures/:id?language=             | documents, legal conditions + versions, passcode details |
 * | approve             | POST /v1/signatures/:id/approval              | {documentIds, legalConditions[], language?} -> {attemptId}; -> confirmation_required, passcode SMS sent |
 * | confirm             | POST /v1/signatures/:id/confirmation          | {passcode} -> {attemptId}; -> signed / pending_verification / invalid_signature / kyc_required / error |
 * | resendPasscode      | POST /v1/signatures/:id/passcode/resend       | 204; at most 4 times |
 * | uploadSelfie        | POST /v1/signatures/:id/selfie                | {contentBase64} -> 204; selfie_required -> user_consent_required |
 * | getSignatureStatus  | GET  /v1/signatures/:id/status                | {signatureId, status, statusCode} |
 * | getSignedDocument   | GET  /v1/signatures/:id/documents/:documentId | the signed PDF once signed |
 * | getInfoCertContract | GET  /v1/signatures/:id/infocert-contract     | 200 contract PDF (InfoCert) or 204 (the primary QTSP) once signed |
 * Auth: `Authorization: Bearer <access_token>`; missing or expired answers 401. Business-rule failures
 * (windows, wrong state, wrong passcode, resend limit) answer 422 `{code, message}`; unknown ids 404;
 * malformed bodies 400. Bodies are JSON with base64 files (the real API may want multipart).
 *
 * Workflow names (assumption): `french-idv-qes` (completed-verification flow), `french-idv-qes-pending`
 * (pending-verification flow), `french-qes` (signature only, on the existing case `verificationId`). The
 * workflowId is both the verificationId and the signatureId; a signature-only workflow has its own id
 * and points at the case it signs for.
 *
 * Webhooks carry no payload: a thin `{verificationId|signatureId, status, timestamp}` POSTed to the
 * registered URL with the instance id appended, authenticated by HTTP Basic or an OAuth bearer token.
 */
import { z } from 'zod';
import type { Endpoint } from '../endpoints';

export const FOURTHLINE_API = {
  createAccessToken: { method: 'POST', path: '/oauth2/token' },
  createWorkflow: { method: 'POST', path: '/v1/workflows' },
  uploadIdentityData: { method: 'PUT', path: '/v1/verifications/:id/identity-data' },
  uploadIdentityFiles: { method: 'POST', path: '/v1/verifications/:id/identity-files' },
  startProcessing: { method: 'POST', path: '/v1/verifications/:id/processing' },
  getCase: { method: 'GET', path: '/v1/verifications/:id' },
  getCddReport: { method: 'GET', path: '/v1/verifications/:id/cdd-report' },
  uploadDocuments: { method: 'POST', path: '/v1/signatures/:id/documents' },
  uploadMobileNumber: { method: 'PUT', path: '/v1/signatures/:id/mobile-number' },
  getSignatureDetails: { method: 'GET', path: '/v1/signatures/:id' },
  approve: { method: 'POST', path: '/v1/signatures/:id/approval' },
  confirm: { method: 'POST', path: '/v1/signatures/:id/confirmation' },
  resendPasscode: { method: 'POST', path: '/v1/signatures/:id/passcode/resend' },
  uploadSelfie: { method: 'POST', path: '/v1/signatures/:id/selfie' },
  getSignatureStatus: { method: 'GET', path: '/v1/signatures/:id/status' },
  getSignedDocument: { method: 'GET', path: '/v1/signatures/:id/documents/:documentId' },
  getInfoCertContract: { method: 'GET', path: '/v1/signatures/:id/infocert-contract' },
} as const satisfies Record<string, Endpoint>;
export type FourthlineOperation = keyof typeof FOURTHLINE_API;

export const FOURTHLINE_CASE_STATUSES = ['new', 'pending', 'invalid_data', 'inconsistent_data', 'completed'] as const;
export type FourthlineCaseStatus = (typeof FOURTHLINE_CASE_STATUSES)[number];
export const FOURTHLINE_SIGNATURE_STATUSES = [
  'new',
  'pending',
  'user_consent_required',
  'selfie_required',
  'kyc_required',
  'confirmation_required',
  'signed',
  'pending_verification',
  'invalid_signature',
  'error',
] as const;
export type FourthlineSignatureStatus = (typeof FOURTHLINE_SIGNATURE_STATUSES)[number];

export const FOURTHLINE_WORKFLOW_NAMES = ['french-idv-qes', 'french-idv-qes-pending', 'french-qes'] as const;
export type FourthlineWorkflowName = (typeof FOURTHLINE_WORKFLOW_NAMES)[number];

export { FOURTHLINE_MAX_RESENDS, FOURTHLINE_WINDOWS } from './constants';

// ---- Requests ----

// A search for one bad character, not /^[…]+$/ over the whole (megabytes) string: no backtracking stack.
const base64 = z
  .string()
  .min(1)
  .refine((s) => !/[^A-Za-z0-9+/=]/.test(s), 'must be base64');

export const createWorkflowRequest = z.object({
  workflowName: z.enum(FOURTHLINE_WORKFLOW_NAMES),
  clientReference: z.string().min(1).max(200),
  verificationId: z.string().optional(),
});
export const identityDataRequest = z.object({
  person: z
    .object({ firstName: z.string().min(1), lastName: z.string().min(1), birthDate: z.string().optional() })
    .passthrough(),
  address: z
    .object({
      street: z.string().optional(),
      city: z.string().min(1),
      postalCode: z.string().optional(),
      countryCode: z.string().length(3),
    })
    .passthrough(),
  emailAndPhone: z.object({ email: z.string().email(), phone: z.string().optional() }).passthrough(),
});
export const identityFilesRequest = z.object({
  files: z
    .array(z.object({ type: z.string().min(1), contentType: z.string().optional(), contentBase64: base64 }))
    .min(1),
});
export const documentsRequest = z.object({
  documents: z
    .array(z.object({ name: z.string().min(1).max(200), contentBase64: base64 }))
    .min(1)
    .max(10),
});
export const mobileNumberRequest = z.object({ mobileNumber: z.string().regex(/^\+\d{8,15}$/, 'must be E.164') });
export const approvalRequest = z.object({
  documentIds: z.array(z.string()).min(1),
  legalConditions: z.array(z.object({ id: z.string(), version: z.string() })).min(1),
  language: z.string().optional(),
});
export const confirmationRequest = z.object({ passcode: z.string().min(1).max(12) });
export const selfieRequest = z.object({ contentBase64: base64 });

// ---- Answers (what a client needs of them; the vendor may send more) ----

export const tokenResponse = z.object({
  access_token: z.string().min(1),
  expires_in: z.number().positive().optional(),
  token_type: z.string().optional(),
});
export const workflowResponse = z.object({ workflowId: z.string().min(1), clientId: z.string().min(1) });
export const caseResponse = z.object({
  verificationId: z.string(),
  status: z.enum(FOURTHLINE_CASE_STATUSES),
  riskScore: z.number().nullish(),
  statusCode: z.string().nullish(),
});
export const signatureStatusResponse = z.object({
  status: z.enum(FOURTHLINE_SIGNATURE_STATUSES),
  statusCode: z.string().nullish(),
});
export const signatureDetailsResponse = z.object({
  signatureId: z.string(),
  verificationId: z.string(),
  clientId: z.string(),
  status: z.enum(FOURTHLINE_SIGNATURE_STATUSES),
  documents: z.array(z.object({ documentId: z.string(), name: z.string() })),
  legalConditions: z.array(
    z.object({
      id: z.string(),
      version: z.string(),
      language: z.string().optional(),
      title: z.string().optional(),
      url: z.string().optional(),
    }),
  ),
  passcode: z
    .object({
      length: z.number().optional(),
      validitySeconds: z.number().optional(),
      sentAt: z.string().nullish(),
      resendsLeft: z.number().optional(),
    })
    .optional(),
});
export const attemptResponse = z.object({ attemptId: z.string().min(1) });

/** Every error answer: `{code, message}`. */
export interface FourthlineError {
  code: string;
  message: string;
}

/** The thin webhook bodies: always GET the current status after one. */
export const caseWebhookBody = z.object({
  verificationId: z.string(),
  status: z.string(),
  timestamp: z.string(),
});
export const signatureWebhookBody = z.object({ signatureId: z.string(), status: z.string(), timestamp: z.string() });
