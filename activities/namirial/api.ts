/**
 * Namirial VerifID's enrollment API (../shared/vendor-docs/namirial-verifid-enrollment.txt), as our
 * activities (which call it), the sandbox (which serves it) and the workflow (which decides on its
 * states) read it: the one place it is described. Pure (zod and types only). The states and error codes
 * are in ./states.ts, without zod, which is what workflow code imports (zod would more than double the
 * workflow bundle).
 *
 * Base URL https://verifid.ecertia.com (the sandbox's `<sandbox>/namirial`); auth: header `X-VerifiD-ApiToken`.
 * | operation        | method + path               | request -> answer |
 * |------------------|-----------------------------|-------------------|
 * | createEnrollment | PUT /api/v1/Enrollments     | `{ Profile, Language, Email, FirstName, LastName, ReturnUrl }` -> 200 the enrollment resource |
 * | readEnrollment   | GET /api/v1/Enrollments/:id | 200 the same resource, current State / Outcome; 404 `-not-found` |
 * The resource: Id, Kinds, State, Outcome, Name, LastName, DocumentNumber, Email, Phone, Language, Provider,
 * Consumer, IdentificationUrl, EnrollUrl (`/enrollment/start/:id`), ReturnUrl. When the user is done, the
 * browser goes to `ReturnUrl?verifidResult=success` or `ReturnUrl?verifidResult=error&verifidError=<code>`.
 * Errors are problem documents `{ Type, Title, Details }`: 400 `-bad-request` (e.g. "<Profile> can't enroll
 * requests with an empty lastname") · 401 `-authn` · 503 `-service-unavailable`. Details can quote the
 * request (the applicant's data).
 *
 * Assumptions beyond the doc (the one place they are written down):
 * - The read-back path `GET /api/v1/Enrollments/:id` (the excerpt documents the create only).
 * - States: New -> Started (the user opened EnrollUrl) -> Completed (Outcome "Success") | Failed (Outcome =
 *   the verifidError code) | Expired (Outcome "RequestIsExpired"). The doc shows only "New" and Outcome
 *   null; a client takes any other State with no Outcome as still running.
 * - Field errors other than the documented empty last name answer 400 with Details naming the field.
 * - A ReturnUrl that already has a query string gets `&` instead of `?` (the doc concatenates with `?`).
 * - The create has no idempotency key, no look-up (the read is by Id only), no callback and no delete.
 */
import { z } from 'zod';
import type { Endpoint } from '../endpoints';
import type { NamirialErrorCode } from './states';

export {
  isNamirialErrorCode,
  NAMIRIAL_ERROR_CODES,
  NAMIRIAL_FINAL_STATES,
  NAMIRIAL_STATES,
  namirialIsFinal,
  type NamirialErrorCode,
  type NamirialState,
} from './states';

export const NAMIRIAL_API = {
  createEnrollment: { method: 'PUT', path: '/api/v1/Enrollments' },
  readEnrollment: { method: 'GET', path: '/api/v1/Enrollments/:id' },
} as const satisfies Record<string, Endpoint>;
export const NAMIRIAL_TOKEN_HEADER = 'X-VerifiD-ApiToken';

/** `https://{returnUrl}?{verifIdResult}{verifIdError}` (doc): where the user's browser goes at the end. */
export function namirialReturnUrl(base: string, result: 'success' | NamirialErrorCode): string {
  const query = result === 'success' ? 'verifidResult=success' : `verifidResult=error&verifidError=${result}`;
  return `${base}${base.includes('?') ? '&' : '?'}${query}`;
}

export const createEnrollmentRequest = z.object({
  Profile: z.string().regex(/^[^:\s]+::[^:\s]+::[^:\s]+$/),
  Language: z.string().regex(/^[a-z]{2}$/),
  Email: z.email(),
  FirstName: z.string(),
  LastName: z.string(),
  ReturnUrl: z.url({ protocol: /^https?$/ }),
});

/** The enrollment resource: what a client reads of it (it also carries Name, LastName, Email, ...). */
export const enrollmentResource = z.object({
  Id: z.string().min(1).max(200),
  Kinds: z.array(z.string()).nullish(),
  State: z.string().min(1).max(64),
  Outcome: z.string().max(64).nullish(),
  Provider: z.string().max(64).nullish(),
  EnrollUrl: z.string().url(),
  IdentificationUrl: z.string().nullish(),
  ReturnUrl: z.string().nullish(),
});

/** An error answer (RFC 7807 style). */
export interface NamirialProblem {
  Type: string;
  Title: string;
  Details: string;
}

/** The problem Type slug and Title per HTTP status. */
const PROBLEMS: Record<number, [string, string]> = {
  400: ['-bad-request', 'The request is invalid'],
  401: ['-authn', 'There was a problem authenticating the request'],
  404: ['-not-found', 'The resource was not found'],
  429: ['-too-many-requests', 'Too many requests'],
  503: ['-service-unavailable', 'The server is currently unable to handle the request'],
};

export function problem(status: number, details: string): NamirialProblem {
  const [slug, title] = PROBLEMS[status] ?? ['-error', 'The request failed'];
  return { Type: `https://verif.id/error/${slug}`, Title: title, Details: details };
}

/** `https://verif.id/error/-bad-request` -> `-bad-request`. */
export function problemCode(body: unknown): string | undefined {
  const type = (body as { Type?: unknown } | null)?.Type;
  return typeof type === 'string' ? /([^/]+)\/?$/.exec(type)?.[1] : undefined;
}
