/**
 * Authenteq's Web IDV API (../shared/vendor-docs/authenteq-web-idv.txt), as both our activities (which
 * call it) and the sandbox (which serves it) read it: the one place it is described. Pure (zod and
 * types only): workflow code may import it.
 *
 * Base URL https://api.app.authenteq.com (the sandbox's `<sandbox>/authenteq`). Auth: HTTP Basic, client
 * id : client secret. Errors: `{ errorCode, errorMessage }`.
 * | operation          | method + path                                        | answer |
 * |--------------------|------------------------------------------------------|--------|
 * | getVerificationUrl | GET /web-idv/verification-url?redirectUrl=           | headers `AQ-Multi-Document-Flow: On` (multi-document flow), `AQ-Flow-Slug` (optional); 200 `{ verificationUrl }` |
 * |   400 MISSING_REQUEST_PARAMETER (redirectUrl) · INVALID_REQUEST_PARAMETER (not a registered URL) · NO_REDIRECT_URLS ·
 * |   401 API_KEYS_MISSING · API_KEYS_INVALID · BAD_API_KEYS · 403 ACCOUNT_DEACTIVATED |
 * | getResult          | GET /web-idv/verification-result?redirectUrl=&code=  | 200 the result JSON; the code works once: a second exchange answers 400 INVALID_REQUEST_PARAMETER ("code is invalid or expired") |
 * |   400 MISSING_REQUEST_PARAMETER (code, redirectUrl) · INVALID_REQUEST_PARAMETER (code invalid or expired; redirectUrl
 * |       does not match the code) · 401 API_KEYS_MISSING · API_KEYS_INVALID · API_KEYS_BAD |
 * The doc spells the "bad keys" code BAD_API_KEYS on one endpoint and API_KEYS_BAD on the other: both kept.
 * The user's browser ends on the redirect URL with `code` added, or without a code when the user left
 * (the verification must then be restarted, vendor notes).
 *
 * Assumptions beyond the doc (the one place they are written down):
 * - A redirect URL matches a registered one when scheme, host and path are equal; a query string is
 *   allowed and kept, and `code` is added to it. The exchange needs the exact redirectUrl string of the session.
 * - API_KEYS_INVALID: an Authorization header that is not `Basic base64(id:secret)`; BAD: well formed, wrong keys.
 * - A result's `status` is PASSED or FAILED (the doc shows PASSED only).
 * - Some of the doc's error bodies are not valid JSON.
 */
import { z } from 'zod';
import type { Endpoint } from '../endpoints';

export const AUTHENTEQ_API = {
  getVerificationUrl: { method: 'GET', path: '/web-idv/verification-url' },
  getResult: { method: 'GET', path: '/web-idv/verification-result' },
} as const satisfies Record<string, Endpoint>;
export const AUTHENTEQ_HEADERS = { multiDocumentFlow: 'AQ-Multi-Document-Flow', flowSlug: 'AQ-Flow-Slug' } as const;

export const verificationUrlResponse = z.object({ verificationUrl: z.string().url() });

export const binaryContent = z.object({ contentType: z.string().max(200), content: z.string() });
const documentData = z.object({
  documentType: z.string(),
  issuingCountry: z.string(),
  croppedFrontImage: binaryContent.nullish(),
  croppedBackImage: binaryContent.nullish(),
  faceImage: binaryContent.nullish(),
});

/** The result JSON: what a client reads of it (the documents also carry names, numbers, dates). */
export const authenteqResultSchema = z.object({
  id: z.string().min(1).max(200),
  status: z.string().min(1),
  platform: z.string().nullish(),
  livenessFaceImage: binaryContent.nullish(),
  documentData,
  documentData2: documentData.nullish(),
  documentData3: documentData.nullish(),
  nfcVerified: z.boolean(),
  addressProofDocument: binaryContent.nullish(),
});

/** Every error answer: `{ errorCode, errorMessage }`. */
export interface AuthenteqError {
  errorCode: string;
  errorMessage: string;
}
