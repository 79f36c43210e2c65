/**
 * Fourthline French solution API calls (../shared/vendor-docs/fourthline-french-idv-qes.txt).
 *
 * Endpoint table (base URL = FOURTHLINE_BASE_URL; the doc names the operations, not the paths, so
 * every path and body here is an assumption shared with sandboxes/fourthline/index.ts):
 * | operation            | method + path                                   | notes |
 * |----------------------|-------------------------------------------------|-------|
 * | createAccessToken    | POST {FOURTHLINE_TOKEN_PATH} (/oauth2/token)    | client credentials -> {access_token, expires_in: 3600} |
 * | createWorkflow       | POST /v1/workflows                              | {workflowName, clientReference, verificationId?} -> {workflowId, clientId} |
 * | uploadIdentityData   | PUT  /v1/verifications/:id/identity-data        | person, address, emailAndPhone; replaces |
 * | uploadIdentityFiles  | POST /v1/verifications/:id/identity-files       | base64 JSON files; case -> pending / invalid_data |
 * | startProcessing      | POST /v1/verifications/:id/processing           | case -> inconsistent_data / completed |
 * | getCase              | GET  /v1/verifications/:id                      | status, riskScore, statusCode |
 * | getCddReport         | GET  /v1/verifications/:id/cdd-report           | ZIP |
 * | uploadDocuments      | POST /v1/signatures/:id/documents               | base64 JSON documents |
 * | uploadMobileNumber   | PUT  /v1/signatures/:id/mobile-number           | |
 * | getSignatureDetails  | GET  /v1/signatures/:id?language=               | documents, legal conditions + versions, passcode details |
 * | approve              | POST /v1/signatures/:id/approval                | -> {attemptId} |
 * | confirm              | POST /v1/signatures/:id/confirmation            | {passcode} -> {attemptId} |
 * | resendPasscode       | POST /v1/signatures/:id/passcode/resend         | at most 4 |
 * | uploadSelfie         | POST /v1/signatures/:id/selfie                  | |
 * | getSignatureStatus   | GET  /v1/signatures/:id/status                  | |
 * | getSignedDocument    | GET  /v1/signatures/:id/documents/:documentId   | PDF |
 * | getInfoCertContract  | GET  /v1/signatures/:id/infocert-contract       | 200 PDF or 204 (Namirial) |
 *
 * Idempotency (issue 10): Temporal retries an activity whose answer was lost (a reset after the
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
 * Auth: `Authorization: Bearer <access token>`, the token cached per worker process (below). Business
 * rules (windows, passcode) answer 422 `{code, message}`. Assumptions beyond the doc: JSON bodies
 * with base64 files (the real API may want multipart), error bodies `{code}`.
 *
 * Personal data (identity data, mobile number, selfie, passcode) reaches these activities as
 * evidence-store references: the bytes are read here and never returned to the workflow.
 */
import { z } from 'zod';
import { ApplicationFailure } from '@temporalio/common';
import { Context, log } from '@temporalio/activity';
import type { FourthlineConfig } from '../config';
import type { EvidenceRef } from '../workflows/shared';
import type { EvidenceStore } from './evidence-store';
import { callVendor, createsUnanswered, FAILURE_TYPES, type VendorRequest, type VendorResponse } from './http';

const vendor = 'Fourthline';

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

const tokenResponse = z.object({
  access_token: z.string().min(1),
  expires_in: z.number().positive().optional(),
  token_type: z.string().optional(),
});
const workflowResponse = z.object({ workflowId: z.string().min(1), clientId: z.string().min(1) });
const caseResponse = z.object({
  verificationId: z.string(),
  status: z.enum(FOURTHLINE_CASE_STATUSES),
  riskScore: z.number().nullish(),
  statusCode: z.string().nullish(),
});
const signatureStatusResponse = z.object({
  status: z.enum(FOURTHLINE_SIGNATURE_STATUSES),
  statusCode: z.string().nullish(),
});
const detailsResponse = z.object({
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
const attemptResponse = z.object({ attemptId: z.string().min(1) });

export interface FourthlineCaseSummary {
  status: FourthlineCaseStatus;
  riskScore: number | null;
  statusCode: string | null;
}
export interface FourthlineSignatureSummary {
  status: FourthlineSignatureStatus;
  statusCode: string | null;
}
/** What the workflow keeps of the signature details: no mobile number. */
export interface FourthlineSignatureDetails {
  status: FourthlineSignatureStatus;
  clientId: string;
  documents: { documentId: string; name: string }[];
  legalConditions: { id: string; version: string; language: string | null; title: string | null }[];
  passcode: {
    length: number | null;
    validitySeconds: number | null;
    sentAt: string | null;
    resendsLeft: number | null;
  };
}

/**
 * The access token, cached per worker process: shared by concurrent activities (one fetch in
 * flight at a time), refreshed `refreshMarginMs` before it expires, dropped on a 401. It lives in
 * this process's memory only: never an activity input or result, so never in workflow history.
 */
export class FourthlineTokenCache {
  private current: { token: string; expiresAt: number } | null = null;
  private inflight: Promise<string> | null = null;
  /** How many tokens this process fetched (tests). */
  fetched = 0;

  constructor(
    private readonly fetchToken: () => Promise<{ token: string; expiresInMs: number }>,
    private readonly refreshMarginMs = 5 * 60_000,
    private readonly now = () => Date.now(),
  ) {}

  async get(): Promise<string> {
    if (this.current && this.current.expiresAt - this.refreshMarginMs > this.now()) return this.current.token;
    this.inflight ??= (async () => {
      try {
        const t = await this.fetchToken();
        this.fetched++;
        this.current = { token: t.token, expiresAt: this.now() + t.expiresInMs };
        return t.token;
      } finally {
        this.inflight = null;
      }
    })();
    return this.inflight;
  }

  /** Forget a token the vendor refused, unless a newer one already replaced it. */
  invalidate(token: string): void {
    if (this.current?.token === token) this.current = null;
  }
}

export interface FourthlineDeps {
  config: FourthlineConfig;
  store: EvidenceStore;
}

/** Fourthline's passcode resend quota (the doc: at most 4). */
const FOURTHLINE_MAX_RESENDS_AT_VENDOR = 4;

/** Whether this activity execution is a retry: the first attempt may have done the work. */
const isRetry = (): boolean => Context.current().info.attempt > 1;

const errorCode = (body: unknown): string | undefined => {
  const c = (body as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : undefined;
};

function httpStatusOf(err: unknown): number | undefined {
  return err instanceof ApplicationFailure
    ? (err.details?.[0] as { httpStatus?: number } | undefined)?.httpStatus
    : undefined;
}

export function createFourthlineActivities({ config, store }: FourthlineDeps) {
  const base = config.baseUrl;

  const tokens = new FourthlineTokenCache(async () => {
    const { body } = await callVendor({
      vendor,
      operation: 'createAccessToken',
      method: 'POST',
      url: `${base}${config.tokenPath}`,
      json: { grant_type: 'client_credentials', client_id: config.clientId, client_secret: config.clientSecret },
      schema: tokenResponse,
      errorCode,
    });
    return { token: body.access_token, expiresInMs: (body.expires_in ?? 3600) * 1000 };
  });

  /** A call with the bearer token; a 401 drops the cached token and retries once with a fresh one. */
  async function authed<T>(
    req: Omit<VendorRequest<T>, 'vendor' | 'headers' | 'errorCode'>,
  ): Promise<VendorResponse<T>> {
    for (let attempt = 1; ; attempt++) {
      const token = await tokens.get();
      try {
        return await callVendor<T>({ ...req, vendor, headers: { authorization: `Bearer ${token}` }, errorCode });
      } catch (err) {
        if (attempt === 1 && httpStatusOf(err) === 401) {
          log.info('Fourthline token refused, fetching a new one', { operation: req.operation });
          tokens.invalidate(token);
          continue;
        }
        throw err;
      }
    }
  }

  async function readJson<T>(ref: EvidenceRef, schema: z.ZodType<T>): Promise<T> {
    const bytes = await readBytes(ref);
    return schema.parse(JSON.parse(bytes.toString('utf8')));
  }
  async function readBytes(ref: EvidenceRef): Promise<Buffer> {
    const bytes = await store.get(ref.sha256);
    if (!bytes)
      throw ApplicationFailure.nonRetryable(
        `evidence ${ref.kind} ${ref.sha256.slice(0, 12)} is not in the store`,
        'EvidenceMissing',
      );
    return bytes;
  }

  const sig = (id: string) => `${base}/v1/signatures/${encodeURIComponent(id)}`;
  const ver = (id: string) => `${base}/v1/verifications/${encodeURIComponent(id)}`;

  async function getCase(verificationId: string): Promise<FourthlineCaseSummary> {
    const { body } = await authed({
      operation: 'getCase',
      method: 'GET',
      url: ver(verificationId),
      schema: caseResponse,
    });
    return { status: body.status, riskScore: body.riskScore ?? null, statusCode: body.statusCode ?? null };
  }

  async function signatureStatus(signatureId: string): Promise<FourthlineSignatureSummary> {
    const { body } = await authed({
      operation: 'getSignatureStatus',
      method: 'GET',
      url: `${sig(signatureId)}/status`,
      schema: signatureStatusResponse,
    });
    return { status: body.status, statusCode: body.statusCode ?? null };
  }
  /**
   * After a 422 INVALID_STATUS on a step's call: the signature's status when it has moved past `step` (the
   * step went through on an earlier, unanswered call), else null.
   */
  async function movedOnAfter(
    err: unknown,
    signatureId: string,
    step: FourthlineSignatureSummary['status'],
  ): Promise<FourthlineSignatureSummary | null> {
    const d =
      err instanceof ApplicationFailure
        ? (err.details?.[0] as { httpStatus?: number; vendorCode?: string | null } | undefined)
        : undefined;
    if (d?.httpStatus !== 422 || d.vendorCode !== 'INVALID_STATUS') return null;
    const now = await signatureStatus(signatureId);
    return now.status !== step ? now : null;
  }
  async function resendsLeft(signatureId: string): Promise<number | null> {
    const { body } = await authed({
      operation: 'getSignatureDetails',
      method: 'GET',
      url: sig(signatureId),
      schema: detailsResponse,
    });
    return body.passcode?.resendsLeft ?? null;
  }

  return {
    async fourthlineCreateWorkflow(input: {
      workflowName: 'french-idv-qes' | 'french-idv-qes-pending' | 'french-qes';
      clientReference: string;
      verificationId?: string;
    }): Promise<{ workflowId: string; clientId: string; createsUnanswered: number }> {
      const { body } = await authed({
        operation: 'createWorkflow',
        method: 'POST',
        url: `${base}/v1/workflows`,
        json: { ...input },
        schema: workflowResponse,
        unansweredCreate: true,
      });
      // Earlier attempts whose create went out unanswered: each may have left an untracked case at
      // Fourthline (no key, no look-up in the doc). The workflow records and flags them.
      const unanswered = createsUnanswered();
      log.info('Fourthline workflow created', {
        workflowId: body.workflowId,
        workflowName: input.workflowName,
        createsUnanswered: unanswered,
      });
      return { workflowId: body.workflowId, clientId: body.clientId, createsUnanswered: unanswered };
    },

    /** Identity data (a JSON document in the store) then the identity files; answers the case status. */
    async fourthlineUploadIdentity(input: {
      verificationId: string;
      identityRef: EvidenceRef;
      files: EvidenceRef[];
    }): Promise<FourthlineCaseSummary> {
      const before = await getCase(input.verificationId);
      // Retried after the files went through: the case has moved on, nothing to upload again.
      if (before.status !== 'new') return before;
      const identity = await readJson(
        input.identityRef,
        z.object({
          person: z.record(z.string(), z.unknown()),
          address: z.record(z.string(), z.unknown()),
          emailAndPhone: z.record(z.string(), z.unknown()),
        }),
      );
      await authed({
        operation: 'uploadIdentityData',
        method: 'PUT',
        url: `${ver(input.verificationId)}/identity-data`,
        json: identity,
      });
      const files = await Promise.all(
        input.files.map(async (f) => ({
          type: f.kind.replace(/^fourthline-identity-/, ''),
          contentType: f.contentType,
          contentBase64: (await readBytes(f)).toString('base64'),
        })),
      );
      await authed({
        operation: 'uploadIdentityFiles',
        method: 'POST',
        url: `${ver(input.verificationId)}/identity-files`,
        json: { files },
        timeoutMs: 120_000,
      });
      return getCase(input.verificationId);
    },

    async fourthlineStartProcessing({ verificationId }: { verificationId: string }): Promise<FourthlineCaseSummary> {
      const before = await getCase(verificationId);
      if (before.status !== 'pending') return before;
      await authed({ operation: 'startProcessing', method: 'POST', url: `${ver(verificationId)}/processing` });
      return getCase(verificationId);
    },

    async fourthlineGetCase({ verificationId }: { verificationId: string }): Promise<FourthlineCaseSummary> {
      return getCase(verificationId);
    },

    async fourthlineDownloadCddReport({ verificationId }: { verificationId: string }): Promise<EvidenceRef> {
      const { raw } = await authed({
        operation: 'getCddReport',
        method: 'GET',
        url: `${ver(verificationId)}/cdd-report`,
        timeoutMs: 120_000,
      });
      if (raw.length < 4 || raw.readUInt32LE(0) !== 0x04034b50) {
        throw ApplicationFailure.create({
          message: 'Fourthline getCddReport: unexpected response, the body is not a ZIP file',
          type: FAILURE_TYPES.invalidResponse,
          nonRetryable: true,
        });
      }
      return store.put('fourthline-cdd-report', 'application/zip', raw);
    },

    async fourthlineUploadDocuments(input: {
      signatureId: string;
      documents: { name: string; ref: EvidenceRef }[];
    }): Promise<void> {
      // Ask first, on every attempt of every activity, not only on a retry: the upload leaves the status
      // `pending`, so nothing else shows it went through. A step whose activity ran out of attempts after
      // Fourthline took the documents (answer lost, retries failing) fails; the integrator asks again and
      // that new activity starts at attempt 1 (found by npm run chaos: `documents-uploaded` twice).
      const { body } = await authed({
        operation: 'getSignatureDetails',
        method: 'GET',
        url: sig(input.signatureId),
        schema: detailsResponse,
      });
      const there = body.documents.map((d) => d.name).sort();
      const wanted = input.documents.map((d) => d.name).sort();
      if (there.length === wanted.length && there.every((n, i) => n === wanted[i])) return;
      const documents = await Promise.all(
        input.documents.map(async (d) => ({
          name: d.name,
          contentBase64: (await readBytes(d.ref)).toString('base64'),
        })),
      );
      await authed({
        operation: 'uploadDocuments',
        method: 'POST',
        url: `${sig(input.signatureId)}/documents`,
        json: { documents },
        timeoutMs: 120_000,
      });
    },

    async fourthlineUploadMobileNumber(input: {
      signatureId: string;
      mobileRef: EvidenceRef;
    }): Promise<FourthlineSignatureSummary> {
      if (isRetry()) {
        // The first attempt's answer may have been lost after Fourthline took the number: the
        // signature then left `pending` (consent, selfie, kyc or error); that status is the answer.
        const now = await signatureStatus(input.signatureId);
        if (now.status !== 'pending') return now;
      }
      const { mobileNumber } = await readJson(input.mobileRef, z.object({ mobileNumber: z.string() }));
      try {
        await authed({
          operation: 'uploadMobileNumber',
          method: 'PUT',
          url: `${sig(input.signatureId)}/mobile-number`,
          json: { mobileNumber },
        });
      } catch (err) {
        // The user's repeated action after an earlier one ran out of attempts with its answers lost (a new
        // activity, attempt 1, skips the read above): 422 INVALID_STATUS once the signature left `pending`
        // means Fourthline took the number. Found by the chaos suite (...-51-signed), as for approve and confirm.
        const now = await movedOnAfter(err, input.signatureId, 'pending');
        if (now) return now;
        throw err;
      }
      const { body } = await authed({
        operation: 'getSignatureStatus',
        method: 'GET',
        url: `${sig(input.signatureId)}/status`,
        schema: signatureStatusResponse,
      });
      return { status: body.status, statusCode: body.statusCode ?? null };
    },

    async fourthlineGetSignatureDetails(input: {
      signatureId: string;
      language: string;
    }): Promise<FourthlineSignatureDetails> {
      const { body } = await authed({
        operation: 'getSignatureDetails',
        method: 'GET',
        url: `${sig(input.signatureId)}?language=${encodeURIComponent(input.language)}`,
        schema: detailsResponse,
      });
      return {
        status: body.status,
        clientId: body.clientId,
        documents: body.documents.map((d) => ({ documentId: d.documentId, name: d.name })),
        legalConditions: body.legalConditions.map((l) => ({
          id: l.id,
          version: l.version,
          language: l.language ?? null,
          title: l.title ?? null,
        })),
        passcode: {
          length: body.passcode?.length ?? null,
          validitySeconds: body.passcode?.validitySeconds ?? null,
          sentAt: body.passcode?.sentAt ?? null,
          resendsLeft: body.passcode?.resendsLeft ?? null,
        },
      };
    },

    async fourthlineApprove(input: {
      signatureId: string;
      documentIds: string[];
      legalConditions: { id: string; version: string }[];
      language: string;
    }): Promise<{ attemptId: string | null } & FourthlineSignatureSummary> {
      if (isRetry()) {
        // The first attempt's answer may have been lost after Fourthline approved: ask first.
        const now = await signatureStatus(input.signatureId);
        if (now.status !== 'user_consent_required') return { attemptId: null, ...now };
      }
      let body: { attemptId: string };
      try {
        ({ body } = await authed({
          operation: 'approve',
          method: 'POST',
          url: `${sig(input.signatureId)}/approval`,
          json: { documentIds: input.documentIds, legalConditions: input.legalConditions, language: input.language },
          schema: attemptResponse,
        }));
      } catch (err) {
        // The user's repeated action after an earlier one ran out of attempts with its answers lost (a new
        // activity, attempt 1): Fourthline answers 422 INVALID_STATUS once it moved on. Found by the chaos suite.
        const now = await movedOnAfter(err, input.signatureId, 'user_consent_required');
        if (now) return { attemptId: null, ...now };
        throw err;
      }
      const status = await authed({
        operation: 'getSignatureStatus',
        method: 'GET',
        url: `${sig(input.signatureId)}/status`,
        schema: signatureStatusResponse,
      });
      return { attemptId: body.attemptId, status: status.body.status, statusCode: status.body.statusCode ?? null };
    },

    /**
     * The passcode comes through the store (never in history). It is deleted once the step is
     * decided (confirmed, or refused by Fourthline), and kept on a retryable failure: the retry
     * needs it, unless reading the status shows the first attempt already confirmed.
     */
    async fourthlineConfirm(input: {
      signatureId: string;
      passcodeRef: EvidenceRef;
    }): Promise<{ attemptId: string | null } & FourthlineSignatureSummary> {
      const forget = () => store.delete(input.passcodeRef.sha256);
      if (isRetry()) {
        const now = await signatureStatus(input.signatureId);
        if (now.status !== 'confirmation_required') {
          await forget();
          return { attemptId: null, ...now };
        }
      }
      const { passcode } = await readJson(input.passcodeRef, z.object({ passcode: z.string() }));
      let body: { attemptId: string };
      try {
        ({ body } = await authed({
          operation: 'confirm',
          method: 'POST',
          url: `${sig(input.signatureId)}/confirmation`,
          json: { passcode },
          schema: attemptResponse,
        }));
      } catch (err) {
        // As approve: a repeated confirm after the first one went through meets 422 INVALID_STATUS.
        const now = await movedOnAfter(err, input.signatureId, 'confirmation_required');
        if (now) {
          await forget();
          return { attemptId: null, ...now };
        }
        if (err instanceof ApplicationFailure && err.nonRetryable) await forget(); // refused: this passcode is spent
        throw err;
      }
      await forget();
      return { attemptId: body.attemptId, ...(await signatureStatus(input.signatureId)) };
    },

    /**
     * `resendsDone`: how many resends the workflow already made before this one (absent in histories
     * recorded before issue 10: then no check). A retry whose first attempt went through sees one
     * resend more spent at Fourthline than that, and does not send a second SMS.
     */
    async fourthlineResendPasscode({
      signatureId,
      resendsDone,
    }: {
      signatureId: string;
      resendsDone?: number;
    }): Promise<void> {
      if (isRetry() && resendsDone !== undefined) {
        const left = await resendsLeft(signatureId);
        if (left !== null && FOURTHLINE_MAX_RESENDS_AT_VENDOR - left > resendsDone) return;
      }
      await authed({ operation: 'resendPasscode', method: 'POST', url: `${sig(signatureId)}/passcode/resend` });
    },

    async fourthlineUploadSelfie(input: {
      signatureId: string;
      selfieRef: EvidenceRef;
    }): Promise<FourthlineSignatureSummary> {
      if (isRetry()) {
        // The first attempt's answer may have been lost after Fourthline took the selfie: the
        // signature then left `selfie_required`; that status is the answer (no second upload).
        const now = await signatureStatus(input.signatureId);
        if (now.status !== 'selfie_required') return now;
      }
      const bytes = await readBytes(input.selfieRef);
      await authed({
        operation: 'uploadSelfie',
        method: 'POST',
        url: `${sig(input.signatureId)}/selfie`,
        json: { contentBase64: bytes.toString('base64') },
        timeoutMs: 120_000,
      });
      const { body } = await authed({
        operation: 'getSignatureStatus',
        method: 'GET',
        url: `${sig(input.signatureId)}/status`,
        schema: signatureStatusResponse,
      });
      return { status: body.status, statusCode: body.statusCode ?? null };
    },

    async fourthlineGetSignatureStatus({ signatureId }: { signatureId: string }): Promise<FourthlineSignatureSummary> {
      const { body } = await authed({
        operation: 'getSignatureStatus',
        method: 'GET',
        url: `${sig(signatureId)}/status`,
        schema: signatureStatusResponse,
      });
      return { status: body.status, statusCode: body.statusCode ?? null };
    },

    /** Each signed PDF, then the InfoCert contract when there is one (204 = Namirial, no contract). */
    async fourthlineDownloadSigned(input: {
      signatureId: string;
      documentIds: string[];
    }): Promise<{ documents: EvidenceRef[]; contract: EvidenceRef | null }> {
      const documents: EvidenceRef[] = [];
      for (const documentId of input.documentIds) {
        const { raw } = await authed({
          operation: 'getSignedDocument',
          method: 'GET',
          url: `${sig(input.signatureId)}/documents/${encodeURIComponent(documentId)}`,
          timeoutMs: 120_000,
        });
        documents.push(await store.put('fourthline-signed-document', 'application/pdf', raw));
      }
      const contract = await authed({
        operation: 'getInfoCertContract',
        method: 'GET',
        url: `${sig(input.signatureId)}/infocert-contract`,
        timeoutMs: 120_000,
      });
      return {
        documents,
        contract:
          contract.status === 200 && contract.raw.length
            ? await store.put('fourthline-infocert-contract', 'application/pdf', contract.raw)
            : null,
      };
    },
  };
}

export type FourthlineActivities = ReturnType<typeof createFourthlineActivities>;
