/**
 * ID360 (Docaposte) enrollment API (../shared/vendor-docs/id360-docaposte-enrollment.txt), as both our
 * activities (which call it) and the sandbox (which serves it) read it: the one place it is described.
 * Pure (zod and types only): workflow code may import it.
 *
 * Base URL = the host root, e.g. https://preprod.id360docaposte.com. Auth column: T = `Authorization:
 * Token <login token>`, K = `x-api-key: <enrollment api_key>`. Paths answer with or without the
 * trailing slash (the doc writes both).
 * | operation          | method + path                                                      | auth | answer |
 * |--------------------|--------------------------------------------------------------------|------|--------|
 * | login              | POST /api/1.0.0/user/login/ {username, password}                   | -    | {token}; 15-minute token |
 * | whoami             | GET  /api/1.0.0/user/whoami                                        | T    | 200 while the token lives; slides it like every T call |
 * | createEnrollment   | POST /api/1.0.0/process/:processId/enrollment                      | T    | 200 {id, api_key, status: NEW, ...} |
 * | getEnrollment      | GET  /api/1.0.0/enrollment/:id/                                    | T    | {id, status, reason, ...} |
 * | enrollmentInfo     | GET  /api/1.0.0/enrollment/flow/enrollment_info/                   | K    | {routes: [{id}], expected_data, ...} |
 * | selectRoute        | POST /api/1.0.0/enrollment/flow/route/:routeId/select/             | K    | 204 |
 * | consent            | POST /api/1.0.0/enrollment/flow/consent/?accepted_cgu=true&accepted_biometry= | K | 204 |
 * | compareData        | POST /api/1.0.0/enrollment/:id/control/data/:dataName/?locked=true | T    | raw value as text/plain; 204 |
 * | uploadDocumentPage | POST /api/1.0.0/enrollment/flow/document/id_document_image/?total_pages=&uploaded_page= | K | raw bytes, one page per request; 204 |
 * | uploadSelfie       | POST /api/1.0.0/enrollment/flow/document/selfie_image_upload/?total_pages=1&uploaded_page=0 | K | 204; needs accepted_biometry |
 * | finalize           | POST /api/1.0.0/enrollment/flow/finalize_enrollment                | K    | 204 (mandatory) |
 * | getReport          | GET  /api/1.0.0/enrollment/:id/report[?allow_draft=true]           | T    | JSON, once the final callback went out |
 * | getPdfReport       | GET  /api/1.0.0/enrollment/:id/report/pdf/                         | T    | application/pdf |
 * The user's pages (browser mode): `/static/process_ui/index.html#/enrollment/{api_key}`.
 *
 * Assumptions beyond the doc (the one place they are written down):
 * - Errors are Django REST Framework style `{ detail }` plus a `code`; 401 `{"detail":"Invalid token."}`
 *   (unknown / expired token), `{"detail":"Invalid api key."}` (x-api-key); a T call with an expired token is
 *   401 and does not revive it. x-api-key calls neither need nor slide the token.
 * - `GET /enrollment/{id}/` (the `url` the create call returns) reads the enrollment; the PDF report path
 *   above (the doc only names "Download the PDF report").
 * - A report is 409 REPORT_NOT_AVAILABLE before the final callback (a draft with allow_draft=true while
 *   NEW / STARTED / CANCELED); FAILED has none.
 * - Callback body `{ id, status, reason, client_reference, steps_status }`, POSTed to every registered
 *   endpoint whose `on` filter matches, with that endpoint's headers (and the legacy `callback_headers`),
 *   retried until answered 2xx. `on` letters: S = STARTED, E = ended with a verdict (OK / KO), F = FAILED,
 *   C = CANCELED, D = DELETED; an empty list = every status change.
 * - Status flow: NEW -> STARTED (first flow call) -> [finalize] -> OK | KO | FAILED; CANCELED when the
 *   user cancels, or with reason ERL_TIMEOUT when the enrollment is not finalized in time.
 * - Uploads: jpg / png / pdf / heic (sniffed from the bytes) up to 9.5 MB per page: 400 UNSUPPORTED_FORMAT,
 *   413 FILE_TOO_LARGE; a selfie must be an image and needs accepted_biometry. Uploads need the route
 *   selected and accepted_cgu (409 otherwise); re-sending a page replaces it; finalize needs every page of
 *   total_pages (409 DOCUMENT_INCOMPLETE), a second finalize is 409 ENROLLMENT_ALREADY_FINALIZED, a step on
 *   an ended enrollment 409 ENROLLMENT_CLOSED.
 * - Data comparison names: name, first_name, birth_date; a locked value cannot be sent again (409
 *   DATA_LOCKED). A value that differs from what the document says makes the verdict KO (VLD_VALIDATION_KO).
 * - Enrollment ids may come as numbers or strings: a client carries them as strings.
 */
import { z } from 'zod';
import type { Endpoint } from '../endpoints';

const API = '/api/1.0.0';
export const ID360_API = {
  login: { method: 'POST', path: `${API}/user/login/` },
  whoami: { method: 'GET', path: `${API}/user/whoami` },
  createEnrollment: { method: 'POST', path: `${API}/process/:processId/enrollment` },
  getEnrollment: { method: 'GET', path: `${API}/enrollment/:id/` },
  enrollmentInfo: { method: 'GET', path: `${API}/enrollment/flow/enrollment_info/` },
  selectRoute: { method: 'POST', path: `${API}/enrollment/flow/route/:routeId/select/` },
  consent: { method: 'POST', path: `${API}/enrollment/flow/consent/` },
  compareData: { method: 'POST', path: `${API}/enrollment/:id/control/data/:dataName/` },
  uploadDocumentPage: { method: 'POST', path: `${API}/enrollment/flow/document/id_document_image/` },
  uploadSelfie: { method: 'POST', path: `${API}/enrollment/flow/document/selfie_image_upload/` },
  finalize: { method: 'POST', path: `${API}/enrollment/flow/finalize_enrollment` },
  getReport: { method: 'GET', path: `${API}/enrollment/:id/report` },
  getPdfReport: { method: 'GET', path: `${API}/enrollment/:id/report/pdf/` },
} as const satisfies Record<string, Endpoint>;
/** Every API path starts with this (the sandbox counts calls by it). */
export const ID360_API_PREFIX = `${API}/`;

export const ID360_STATUSES = ['NEW', 'STARTED', 'CANCELED', 'FAILED', 'OK', 'KO', 'DELETED'] as const;
export type Id360Status = (typeof ID360_STATUSES)[number];
export const ID360_FINAL_STATUSES: readonly Id360Status[] = ['CANCELED', 'FAILED', 'OK', 'KO', 'DELETED'];
/** The verdicts an enrollment reaches after finalize. */
export const ID360_VERDICTS = ['OK', 'KO', 'FAILED'] as const;
export const ID360_DATA_NAMES = ['name', 'first_name', 'birth_date'] as const;
export type Id360DataName = (typeof ID360_DATA_NAMES)[number];
/** A callback endpoint's `on` filter letters (see the header). */
export const ID360_CALLBACK_FILTERS = ['S', 'E', 'F', 'C', 'D'] as const;
/** The upload limit per page (vendor notes: 9.5 MB). */
export const ID360_MAX_UPLOAD_BYTES = 9.5 * 1024 * 1024;

// ---- Requests ----

export const loginRequest = z.object({ username: z.string(), password: z.string() });
export const createEnrollmentRequest = z.object({
  browser_callback_url: z.string().url(),
  client_reference: z.string().max(255).optional(),
  callback_endpoints: z
    .array(
      z.object({
        url: z.string().url(),
        on: z.array(z.enum(ID360_CALLBACK_FILTERS)).default([]),
        headers: z.array(z.object({ name: z.string().min(1).max(100), value: z.string().max(500) })).default([]),
      }),
    )
    .min(1, 'at least one callback endpoint is required'),
  callback_headers: z.record(z.string(), z.string()).optional(),
  last_name: z.string().optional(),
  first_name: z.string().optional(),
  email: z.string().optional(),
  address_line_1: z.string().optional(),
  address_line_2: z.string().optional(),
  address_line_3: z.string().optional(),
  zip_code: z.string().optional(),
  city: z.string().optional(),
  country: z.string().optional(),
  phone_number: z.string().optional(),
  group: z.string().optional(),
});

// ---- Answers (what a client needs of them; the vendor sends more) ----

const status = z.enum(ID360_STATUSES);
const enrollmentId = z.union([z.number().int(), z.string().min(1).max(100)]).transform(String);

export const loginResponse = z.object({ token: z.string().min(8) });
export const createEnrollmentResponse = z.object({ id: enrollmentId, api_key: z.string().min(8), status });
export const enrollmentResponse = z.object({ id: enrollmentId, status, reason: z.string().nullish() });
export const enrollmentInfoResponse = z.object({
  status: status.optional(),
  routes: z.array(z.object({ id: z.number().int(), name: z.string().optional() })),
  expected_data: z.array(z.string()).optional(),
});
export const reportResponse = z.object({
  id: enrollmentId,
  status,
  reason: z.string().nullish(),
  steps_status: z.record(z.string(), z.string()).nullish(),
  checks: z.array(z.object({ name: z.string(), result: z.string(), score: z.number().nullish() })).nullish(),
});

/** Every error answer: `{ detail, code }`. */
export interface Id360Error {
  detail: string;
  code: string;
}

/** The callback body POSTed to each registered endpoint. */
export const callbackBody = z.object({
  id: enrollmentId,
  status,
  reason: z.string().nullish(),
  client_reference: z.string().nullish(),
  steps_status: z.record(z.string(), z.string()).nullish(),
});
