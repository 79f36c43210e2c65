/**
 * ID360 (Docaposte) enrollment API calls (../shared/vendor-docs/id360-docaposte-enrollment.txt).
 *
 * Endpoint table (base URL = the host root, e.g. https://preprod.id360docaposte.com; auth column:
 * T = `Authorization: Token <login token>` through the shared session, K = `x-api-key: <enrollment api_key>`)
 * | operation         | method + path                                                              | auth | notes |
 * |-------------------|----------------------------------------------------------------------------|------|-------|
 * | login             | POST /api/1.0.0/user/login/                                                | -    | in Id360Session only |
 * | whoami            | GET  /api/1.0.0/user/whoami                                                | T    | keep-alive, in Id360Session only |
 * | createEnrollment  | POST /api/1.0.0/process/{processId}/enrollment                             | T    | 200 {id, api_key, status NEW}; no key or look-up: a lost answer's orphan is recorded and flagged (below) |
 * | enrollmentInfo    | GET  /api/1.0.0/enrollment/flow/enrollment_info/                           | K    | routes[].id |
 * | selectRoute       | POST /api/1.0.0/enrollment/flow/route/{route_id}/select/                   | K    | 204, Content-Type text/plain, no body |
 * | consent           | POST /api/1.0.0/enrollment/flow/consent/?accepted_cgu=true&accepted_biometry= | K | 204 |
 * | compareData       | POST /api/1.0.0/enrollment/{id}/control/data/{data_name}/?locked=true      | T    | raw value as text/plain; 204 |
 * | uploadDocumentPage| POST /api/1.0.0/enrollment/flow/document/id_document_image/?total_pages=&uploaded_page= | K | raw bytes, one page per request; 204 |
 * | uploadSelfie      | POST /api/1.0.0/enrollment/flow/document/selfie_image_upload/?total_pages=1&uploaded_page=0 | K | 204 |
 * | finalize          | POST /api/1.0.0/enrollment/flow/finalize_enrollment                        | K    | 204, mandatory |
 * | getEnrollment     | GET  /api/1.0.0/enrollment/{id}/                                           | T    | polling fallback |
 * | getReport         | GET  /api/1.0.0/enrollment/{id}/report                                     | T    | JSON, only after the final callback |
 * | getPdfReport      | GET  /api/1.0.0/enrollment/{id}/report/pdf/                                | T    | application/pdf |
 * Assumptions beyond the doc (kept here, the one place on our side; the sandbox's table has the same ones):
 * - `GET /enrollment/{id}/` (the `url` the create call returns) reads the status; the PDF report path above
 *   (the doc only names "Download the PDF report"); error bodies are DRF `{ detail }` plus a `code`.
 * - Callback body `{ id, status, reason, client_reference, steps_status }`; we register one endpoint with
 *   `on: []` (every status) and one header, `X-Idv-Callback-Token`, an HMAC of the verification id.
 * - Enrollment ids may come as numbers or strings: we carry them as strings.
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
import type { WebhookSecrets } from '../../config/webhook-token';
import { z } from 'zod';
import { ApplicationFailure } from '@temporalio/common';
import { activityInfo, log } from '@temporalio/activity';
import type { Id360Config } from '../../config';
import { webhookToken } from '../../config/webhook-token';
import type { EvidenceRef } from '../evidence-types';
import type { EvidenceStore } from '../evidence-store';
import { callVendor, createsUnanswered, FAILURE_TYPES } from '../http';
import { httpStatusOf, id360ErrorCode, type Id360Session } from '../id360-session';
import { openApiKey, sealApiKey } from '../id360-secrets';

export const ID360_STATUSES = ['NEW', 'STARTED', 'CANCELED', 'FAILED', 'OK', 'KO', 'DELETED'] as const;
export type Id360Status = (typeof ID360_STATUSES)[number];
export const ID360_FINAL_STATUSES: readonly Id360Status[] = ['CANCELED', 'FAILED', 'OK', 'KO', 'DELETED'];
/** The header our callback endpoint requires; its value is per verification (HMAC of the workflow id). */
export const ID360_CALLBACK_HEADER = 'X-Idv-Callback-Token';
export const ID360_DATA_NAMES = ['name', 'first_name', 'birth_date'] as const;
export type Id360DataName = (typeof ID360_DATA_NAMES)[number];

const status = z.enum(ID360_STATUSES);
const enrollmentIdSchema = z.union([z.number().int(), z.string().min(1).max(100)]).transform(String);

const createResponse = z.object({ id: enrollmentIdSchema, api_key: z.string().min(8), status });
const enrollmentResponse = z.object({ id: enrollmentIdSchema, status, reason: z.string().nullish() });
const infoResponse = z.object({
  status: status.optional(),
  routes: z.array(z.object({ id: z.number().int() })),
  expected_data: z.array(z.string()).optional(),
});
const reportResponse = z.object({
  id: enrollmentIdSchema,
  status,
  reason: z.string().nullish(),
  steps_status: z.record(z.string(), z.string()).nullish(),
  checks: z.array(z.object({ name: z.string(), result: z.string(), score: z.number().nullish() })).nullish(),
});

/** What the activities need to act on one enrollment: never the api_key in clear. */
export interface Id360EnrollmentRef {
  workflowId: string;
  enrollmentId: string;
  sealedApiKey: string;
}

/** Every activity keeps the session's token alive for its enrollment this much longer (the remaining deadline). */
interface Held {
  holdForMs: number;
}

export interface Id360Applicant {
  lastName?: string;
  firstName?: string;
  email?: string;
  addressLine1?: string;
  addressLine2?: string;
  addressLine3?: string;
  zipCode?: string;
  city?: string;
  country?: string;
  phoneNumber?: string;
  group?: string;
}

export interface Id360CreateInput extends Held {
  workflowId: string;
  reference: string;
  mode: 'api' | 'browser';
  applicant: Id360Applicant;
  /** Where ID360 sends the user's browser at the end (browser mode). */
  returnUrl?: string;
}

export interface Id360Created extends Id360EnrollmentRef {
  status: Id360Status;
  /** Earlier attempts of this create that went out unanswered: each may have left an orphan enrollment. */
  createsUnanswered?: number;
  /** Browser mode: our link that redirects the user to ID360's pages (no api_key in it, only its sealed form). */
  userUrl: string | null;
}

/** What the workflow sees of a report: statuses and check results. No extracted identity data, no images. */
export interface Id360ReportSummary {
  enrollmentId: string;
  status: Id360Status;
  reason: string | null;
  checks: Record<string, string>;
  steps: Record<string, string>;
  /** The full report JSON (with the extracted identity) in the evidence store. */
  reportRef: EvidenceRef;
}

export interface Id360Deps {
  config: Id360Config;
  store: EvidenceStore;
  session: Id360Session;
  publicBaseUrl: string;
  webhookSecret: WebhookSecrets;
}

const API = '/api/1.0.0';

export function createId360Activities({ config, store, session, publicBaseUrl, webhookSecret }: Id360Deps) {
  const vendor = 'ID360';
  const base = `${config.baseUrl}${API}`;
  const enc = encodeURIComponent;

  /** The api_key for an x-api-key call; a sealed value that does not open is a bug, not a vendor problem. */
  const apiKeyOf = (e: Id360EnrollmentRef): string => {
    const key = openApiKey(webhookSecret, e.workflowId, e.sealedApiKey);
    if (!key)
      throw ApplicationFailure.nonRetryable(
        'ID360: the sealed api_key does not open for this verification',
        'Id360SealedKeyInvalid',
      );
    return key;
  };

  /** A 409 with this code on a retry attempt: our earlier attempt went through and only its answer was lost. */
  const alreadyDoneOnRetry = (err: unknown, code: string): boolean => {
    const d = err instanceof ApplicationFailure ? (err.details?.[0] as { vendorCode?: string } | undefined) : undefined;
    return activityInfo().attempt > 1 && httpStatusOf(err) === 409 && d?.vendorCode === code;
  };

  /**
   * The report exists "only after the final callback" (doc): a verdict found by polling can be a moment
   * ahead of it. ID360's 409 then means "not yet", so Temporal retries (backoff, within the activity's
   * schedule-to-close) instead of failing the verification.
   */
  const reportNotReadyIsRetryable = async <T>(operation: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (err) {
      const d =
        err instanceof ApplicationFailure ? (err.details?.[0] as { vendorCode?: string } | undefined) : undefined;
      if (httpStatusOf(err) !== 409 || d?.vendorCode !== 'REPORT_NOT_AVAILABLE') throw err;
      throw ApplicationFailure.retryable(`ID360 ${operation}: the report is not available yet`, 'Id360ReportNotReady');
    }
  };

  const bytesOf = async (ref: EvidenceRef): Promise<Buffer> => {
    const bytes = await store.get(ref.sha256);
    if (!bytes)
      throw ApplicationFailure.nonRetryable(
        `the ${ref.kind} ${ref.sha256.slice(0, 12)} is not in the evidence store`,
        'EvidenceMissing',
      );
    return bytes;
  };

  const upload = async (
    e: Id360EnrollmentRef,
    docType: 'id_document_image' | 'selfie_image_upload',
    operation: string,
    totalPages: number,
    page: number,
    ref: EvidenceRef,
  ) => {
    await callVendor({
      vendor,
      operation,
      method: 'POST',
      url: `${base}/enrollment/flow/document/${docType}/?total_pages=${totalPages}&uploaded_page=${page}`,
      headers: { accept: '*/*', 'x-api-key': apiKeyOf(e), 'content-type': ref.contentType },
      body: await bytesOf(ref),
      errorCode: id360ErrorCode,
      timeoutMs: 60_000,
    });
  };

  return {
    async id360CreateEnrollment(input: Id360CreateInput): Promise<Id360Created> {
      const a = input.applicant;
      const { body } = await session.call((authorization) =>
        callVendor({
          vendor,
          operation: 'createEnrollment',
          method: 'POST',
          url: `${base}/process/${enc(config.processId)}/enrollment`,
          headers: { accept: 'application/json', authorization },
          json: {
            browser_callback_url: input.returnUrl ?? publicBaseUrl,
            client_reference: input.reference,
            callback_endpoints: [
              {
                url: `${publicBaseUrl}/webhooks/id360/${enc(input.workflowId)}`,
                on: [],
                headers: [
                  { name: ID360_CALLBACK_HEADER, value: webhookToken(webhookSecret, 'id360', input.workflowId) },
                ],
              },
            ],
            ...defined({
              last_name: a.lastName,
              first_name: a.firstName,
              email: a.email,
              address_line_1: a.addressLine1,
              address_line_2: a.addressLine2,
              address_line_3: a.addressLine3,
              zip_code: a.zipCode,
              city: a.city,
              country: a.country,
              phone_number: a.phoneNumber,
              group: a.group,
            }),
          },
          schema: createResponse,
          errorCode: id360ErrorCode,
          unansweredCreate: true,
        }),
      );
      session.hold(body.id, input.holdForMs);
      const sealedApiKey = sealApiKey(webhookSecret, input.workflowId, body.api_key);
      log.info('ID360 enrollment created', { enrollmentId: body.id, status: body.status });
      return {
        workflowId: input.workflowId,
        enrollmentId: body.id,
        sealedApiKey,
        status: body.status,
        createsUnanswered: createsUnanswered(),
        userUrl: input.mode === 'browser' ? id360UserLink(publicBaseUrl, input.workflowId, sealedApiKey) : null,
      };
    },

    async id360GetEnrollmentInfo(
      input: Id360EnrollmentRef & Held,
    ): Promise<{ status: Id360Status | null; routes: number[]; expectedData: string[] }> {
      session.hold(input.enrollmentId, input.holdForMs);
      const { body } = await callVendor({
        vendor,
        operation: 'enrollmentInfo',
        method: 'GET',
        url: `${base}/enrollment/flow/enrollment_info/`,
        headers: { accept: 'application/json', 'x-api-key': apiKeyOf(input) },
        schema: infoResponse,
        errorCode: id360ErrorCode,
      });
      return {
        status: body.status ?? null,
        routes: body.routes.map((r) => r.id),
        expectedData: body.expected_data ?? [],
      };
    },

    async id360SelectRoute(input: Id360EnrollmentRef & Held & { routeId: number }): Promise<void> {
      session.hold(input.enrollmentId, input.holdForMs);
      await callVendor({
        vendor,
        operation: 'selectRoute',
        method: 'POST',
        url: `${base}/enrollment/flow/route/${input.routeId}/select/`,
        headers: { accept: 'application/json', 'x-api-key': apiKeyOf(input), 'content-type': 'text/plain' },
        errorCode: id360ErrorCode,
      });
    },

    async id360RecordConsent(
      input: Id360EnrollmentRef & Held & { acceptedCgu: true; acceptedBiometry: boolean },
    ): Promise<void> {
      session.hold(input.enrollmentId, input.holdForMs);
      const q = `accepted_cgu=true${input.acceptedBiometry ? '&accepted_biometry=true' : ''}`;
      await callVendor({
        vendor,
        operation: 'consent',
        method: 'POST',
        url: `${base}/enrollment/flow/consent/?${q}`,
        headers: { accept: '*/*', 'x-api-key': apiKeyOf(input) },
        errorCode: id360ErrorCode,
      });
    },

    async id360CompareData(input: { enrollmentId: string; field: Id360DataName; value: string } & Held): Promise<void> {
      session.hold(input.enrollmentId, input.holdForMs);
      try {
        await session.call((authorization) =>
          callVendor({
            vendor,
            operation: `compareData(${input.field})`,
            method: 'POST',
            url: `${base}/enrollment/${enc(input.enrollmentId)}/control/data/${input.field}/?locked=true`,
            headers: { accept: 'text/plain', authorization, 'content-type': 'text/plain; charset=utf-8' },
            body: input.value,
            errorCode: id360ErrorCode,
          }),
        );
      } catch (err) {
        if (!alreadyDoneOnRetry(err, 'DATA_LOCKED')) throw err;
      }
    },

    async id360UploadDocumentPage(
      input: Id360EnrollmentRef & Held & { page: number; totalPages: number; document: EvidenceRef },
    ): Promise<void> {
      session.hold(input.enrollmentId, input.holdForMs);
      await upload(input, 'id_document_image', 'uploadDocumentPage', input.totalPages, input.page, input.document);
      log.info('ID360 document page uploaded', {
        enrollmentId: input.enrollmentId,
        page: input.page,
        totalPages: input.totalPages,
      });
    },

    async id360UploadSelfie(input: Id360EnrollmentRef & Held & { selfie: EvidenceRef }): Promise<void> {
      session.hold(input.enrollmentId, input.holdForMs);
      await upload(input, 'selfie_image_upload', 'uploadSelfie', 1, 0, input.selfie);
    },

    async id360Finalize(input: Id360EnrollmentRef & Held): Promise<void> {
      session.hold(input.enrollmentId, input.holdForMs);
      try {
        await callVendor({
          vendor,
          operation: 'finalize',
          method: 'POST',
          url: `${base}/enrollment/flow/finalize_enrollment`,
          headers: { accept: 'application/json', 'x-api-key': apiKeyOf(input) },
          errorCode: id360ErrorCode,
        });
      } catch (err) {
        // Finalize is accepted once by the workflow, so "already finalized" on any attempt means ours went
        // through unanswered: a Temporal retry, or the user's repeated action after the earlier activity ran
        // out of attempts (found by the chaos suite: it answered 422 "ID360 refused" for a done step).
        const d =
          err instanceof ApplicationFailure ? (err.details?.[0] as { vendorCode?: string } | undefined) : undefined;
        // ENROLLMENT_CLOSED: it went on to its verdict since (or ended otherwise): the status read tells which.
        if (!(
          httpStatusOf(err) === 409 &&
          (d?.vendorCode === 'ENROLLMENT_ALREADY_FINALIZED' || d?.vendorCode === 'ENROLLMENT_CLOSED')
        ))
          throw err;
      }
    },

    async id360GetStatus(
      input: { enrollmentId: string } & Held,
    ): Promise<{ status: Id360Status; reason: string | null }> {
      session.hold(input.enrollmentId, input.holdForMs);
      const { body } = await session.call((authorization) =>
        callVendor({
          vendor,
          operation: 'getEnrollment',
          method: 'GET',
          url: `${base}/enrollment/${enc(input.enrollmentId)}/`,
          headers: { accept: 'application/json', authorization },
          schema: enrollmentResponse,
          errorCode: id360ErrorCode,
        }),
      );
      return { status: body.status, reason: body.reason ?? null };
    },

    async id360FetchReport(input: { enrollmentId: string } & Held): Promise<Id360ReportSummary> {
      session.hold(input.enrollmentId, input.holdForMs);
      const { body, raw } = await reportNotReadyIsRetryable('getReport', () =>
        session.call((authorization) =>
          callVendor({
            vendor,
            operation: 'getReport',
            method: 'GET',
            url: `${base}/enrollment/${enc(input.enrollmentId)}/report`,
            headers: { accept: 'application/json', authorization },
            schema: reportResponse,
            errorCode: id360ErrorCode,
          }),
        ),
      );
      const reportRef = await store.put('id360-report-json', 'application/json', raw);
      log.info('ID360 report stored', {
        enrollmentId: input.enrollmentId,
        sha256: reportRef.sha256,
        size: reportRef.size,
      });
      return {
        enrollmentId: body.id,
        status: body.status,
        reason: body.reason ?? null,
        checks: Object.fromEntries((body.checks ?? []).map((c) => [c.name, c.result])),
        steps: body.steps_status ?? {},
        reportRef,
      };
    },

    async id360FetchPdfReport(input: { enrollmentId: string } & Held): Promise<EvidenceRef> {
      session.hold(input.enrollmentId, input.holdForMs);
      const { raw } = await reportNotReadyIsRetryable('getPdfReport', () =>
        session.call((authorization) =>
          callVendor({
            vendor,
            operation: 'getPdfReport',
            method: 'GET',
            url: `${base}/enrollment/${enc(input.enrollmentId)}/report/pdf/`,
            headers: { accept: 'application/pdf', authorization },
            errorCode: id360ErrorCode,
            timeoutMs: 120_000,
          }),
        ),
      );
      if (raw.subarray(0, 5).toString('latin1') !== '%PDF-') {
        throw ApplicationFailure.create({
          message: 'ID360 getPdfReport: unexpected response, the body is not a PDF',
          type: FAILURE_TYPES.invalidResponse,
          nonRetryable: true,
        });
      }
      return store.put('id360-report-pdf', 'application/pdf', raw);
    },

    /** The workflow is done with this enrollment: this process stops keeping the token alive for it. */
    async id360EndEnrollment({ enrollmentId }: { enrollmentId: string }): Promise<void> {
      session.release(enrollmentId);
    },
  };
}

export type Id360Activities = ReturnType<typeof createId360Activities>;

/** Browser mode: our link that 302s to ID360's pages; it carries the sealed api_key, opened only by our API. */
export function id360UserLink(publicBaseUrl: string, workflowId: string, sealedApiKey: string): string {
  return `${publicBaseUrl}/go/id360/${encodeURIComponent(workflowId)}/${sealedApiKey}`;
}

/** ID360's own pages for the user, as its UI addresses an enrollment: by api_key, in the fragment. */
export function id360VendorUserUrl(baseUrl: string, apiKey: string): string {
  return `${baseUrl}/static/process_ui/index.html#/enrollment/${apiKey}`;
}

function defined(o: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).filter((kv): kv is [string, string] => kv[1] !== undefined));
}
