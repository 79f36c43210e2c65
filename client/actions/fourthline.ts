/**
 * Fourthline human steps, as actions on a verification (bearer API key, inside /v1):
 *
 *   POST /v1/verifications/:id/actions/identity          identity data + identity files (base64)
 *   POST /v1/verifications/:id/actions/documents         documents to sign (base64 PDFs)
 *   POST /v1/verifications/:id/actions/mobile-number     the client's mobile number
 *   POST /v1/verifications/:id/actions/signature-details documents + legal conditions to show (recorded as shown)
 *   POST /v1/verifications/:id/actions/approve           the client approved (recorded as accepted)
 *   POST /v1/verifications/:id/actions/confirm           the passcode from the SMS
 *   POST /v1/verifications/:id/actions/resend-passcode   at most 4 times
 *   POST /v1/verifications/:id/actions/selfie            base64 image
 *   GET  /v1/verifications/:id/signature                 current attempt + history of attempts
 *   GET  /v1/verifications/:id/consent                   what was shown / accepted, to which client, when
 *
 * Bytes and personal data go into the evidence store here; the Update carries only EvidenceRefs
 * (small JSON documents get a random nonce, so that their sha256 reveals nothing). Each action is a
 * Temporal Update on the case (identity) or on the current signature attempt; the validator refuses
 * a wrong state (409) or a closed window (422) before any vendor call.
 */
import crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure, type UpdateDefinition } from '@temporalio/common';
import type { EvidenceStore } from '../../activities/evidence-store';
import { readPublished } from '../read-model';
import {
  approveUpdate,
  confirmUpdate,
  FOURTHLINE_REFUSALS,
  fourthlineAttemptQuery,
  fourthlineCaseQuery,
  identityUpdate,
  resendPasscodeUpdate,
  setMobileNumberUpdate,
  signatureDetailsUpdate,
  uploadDocumentsUpdate,
  uploadSelfieUpdate,
  type AttemptView,
  type FourthlineCaseView,
  FOURTHLINE_CASE_MEMO_KEY,
} from '../../workflows/fourthline';
import { apiVerificationId, parseVerificationId } from '../../workflows/shared';
import { ApiError, notFound } from '../api-error';
import { errorSchema, isBase64 } from '../schemas';

const UPLOAD_LIMIT = 15 * 1024 * 1024;
const base64 = z.string().min(4).max(UPLOAD_LIMIT).refine(isBase64, 'must be base64');

const identityBody = z
  .object({
    person: z
      .object({
        firstName: z.string().min(1).max(100),
        lastName: z.string().min(1).max(100),
        birthDate: z
          .string()
          .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD')
          .optional(),
      })
      .strict(),
    address: z
      .object({
        street: z.string().max(200).optional(),
        postalCode: z.string().max(20).optional(),
        city: z.string().min(1).max(100),
        countryCode: z.string().regex(/^[A-Z]{3}$/, 'must be ISO 3166 alpha-3, e.g. FRA'),
      })
      .strict(),
    emailAndPhone: z
      .object({
        email: z.email('must be an email address').max(254),
        phone: z
          .string()
          .regex(/^\+\d{8,15}$/, 'must be E.164, e.g. +33612345678')
          .optional(),
      })
      .strict(),
    files: z
      .array(
        z
          .object({
            type: z.enum(['id_document_front', 'id_document_back', 'selfie', 'proof_of_address']),
            contentType: z.enum(['image/jpeg', 'image/png', 'application/pdf']),
            contentBase64: base64,
          })
          .strict(),
      )
      .min(1)
      .max(6),
  })
  .strict()
  .describe('Identity data (person, address and emailAndPhone are required) and identity files as base64');
const documentsBody = z
  .object({
    documents: z
      .array(
        z
          .object({
            name: z.string().regex(/^[\w .()-]{1,100}$/, 'must be a plain file name'),
            contentBase64: base64.describe('the PDF, base64'),
          })
          .strict(),
      )
      .min(1)
      .max(10),
  })
  .strict();
const mobileBody = z
  .object({ mobileNumber: z.string().regex(/^\+\d{8,15}$/, 'must be E.164, e.g. +33612345678') })
  .strict();
const approveBody = z
  .object({
    legalConditions: z
      .array(z.object({ id: z.string().max(100), version: z.string().max(50) }).strict())
      .min(1)
      .optional()
      .describe('defaults to the versions shown by signature-details'),
    documentIds: z.array(z.string().max(100)).min(1).optional().describe('defaults to every document shown'),
  })
  .strict();
const confirmBody = z.object({ passcode: z.string().regex(/^\d{4,8}$/, 'must be the digits from the SMS') }).strict();
const selfieBody = z.object({ contentType: z.enum(['image/jpeg', 'image/png']), contentBase64: base64 }).strict();

const windows = z.object({
  approveBy: z.string().nullable(),
  confirmBy: z.string().nullable(),
  passcodeValidUntil: z.string().nullable(),
  selfieBy: z.string().nullable(),
  errorAt: z.string().nullable(),
});
const attemptSchema = z.object({
  attempt: z.number(),
  signatureId: z.string(),
  workflowId: z.string(),
  phase: z.string(),
  providerStatus: z.string().nullable(),
  outcome: z.string().nullable(),
  reason: z.string().nullable(),
  windows,
  passcodeResends: z.number(),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
});
const consentRecord = z.object({
  attempt: z.number(),
  signatureId: z.string(),
  clientId: z.string(),
  event: z.enum(['shown', 'accepted']),
  at: z.string(),
  language: z.string(),
  legalConditions: z.array(z.object({ id: z.string(), version: z.string(), title: z.string().nullable() })),
  documents: z.array(z.object({ documentId: z.string(), name: z.string() })),
  approvalAttemptId: z.string().nullable(),
});
const attemptResponse = z.object({ attempt: attemptSchema });
const caseResponse = z.object({
  stage: z.string(),
  flow: z.string(),
  verificationId: z.string().nullable(),
  clientId: z.string().nullable(),
  caseStatus: z.string().nullable(),
  riskScore: z.number().nullable(),
  current: attemptSchema.nullable(),
  attempts: z.array(attemptSchema),
});
const errors = { 400: errorSchema, 401: errorSchema, 404: errorSchema, 409: errorSchema, 422: errorSchema };

export function registerFourthlineActions(app: FastifyInstance, deps: { client: Client; store: EvidenceStore }): void {
  const { client, store } = deps;
  const r = app.withTypeProvider<ZodTypeProvider>();
  const params = z.object({ id: z.string().min(1).max(200) });
  // Every upload is claimed by the verification (retention and erasure act on the claims).
  const json = (owner: string, kind: string, data: Record<string, unknown>) =>
    store.put(
      kind,
      'application/json',
      Buffer.from(JSON.stringify({ ...data, nonce: crypto.randomBytes(16).toString('hex') })),
      owner,
    );

  async function caseView(id: string): Promise<FourthlineCaseView> {
    if (parseVerificationId(id)?.provider !== 'fourthline') throw notFound();
    try {
      return await client.workflow.getHandle(id).query(fourthlineCaseQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw notFound();
      throw err;
    }
  }

  /** Why an attempt no longer takes actions, as the API answers it. */
  function closed(a: AttemptView | null, view: FourthlineCaseView): ApiError {
    if (!a)
      return new ApiError(409, 'conflict', `no signature attempt yet: the verification is at the ${view.stage} stage`);
    if (a.outcome === 'expired')
      return new ApiError(422, 'window_closed', `signature attempt ${a.attempt} has ended: ${a.reason}`);
    return new ApiError(409, 'conflict', `signature attempt ${a.attempt} has ended (${a.outcome}): ${a.reason}`);
  }

  function isTryAgain(err: unknown): boolean {
    return (
      err instanceof WorkflowUpdateFailedError &&
      err.cause instanceof ApplicationFailure &&
      err.cause.type === FOURTHLINE_REFUSALS.tryAgain
    );
  }

  function refusal(err: unknown): unknown {
    if (!(err instanceof WorkflowUpdateFailedError)) return err;
    const cause = err.cause instanceof ApplicationFailure ? err.cause : undefined;
    switch (cause?.type) {
      case FOURTHLINE_REFUSALS.wrongState:
        return new ApiError(409, 'conflict', cause.message);
      case FOURTHLINE_REFUSALS.windowClosed:
        return new ApiError(422, 'window_closed', cause.message);
      case FOURTHLINE_REFUSALS.rejected: {
        const status = (cause.details?.[0] as { httpStatus?: number } | undefined)?.httpStatus;
        return status === 502
          ? new ApiError(502, 'vendor_unavailable', cause.message)
          : new ApiError(422, 'vendor_rejected', cause.message);
      }
      default:
        return new ApiError(409, 'conflict', cause?.message ?? 'the action was refused');
    }
  }

  /** Runs an update on the current signature attempt. */
  async function onAttempt<Ret, Args extends unknown[]>(
    id: string,
    update: UpdateDefinition<Ret, Args>,
    ...args: Args
  ): Promise<Ret> {
    const view = await caseView(id);
    const a = view.current;
    if (!a || a.outcome) throw closed(a, view);
    try {
      // (The SDK's overloads cannot see through a generic argument list.)
      return await client.workflow
        .getHandle(a.workflowId)
        .executeUpdate(update as unknown as UpdateDefinition<Ret, [unknown]>, { args: args as unknown as [unknown] });
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        // The attempt closed between the read and the update: say how (its own final view).
        const final = await client.workflow
          .getHandle(a.workflowId)
          .query(fourthlineAttemptQuery)
          .catch(() => null);
        throw closed(final ?? a, view);
      }
      throw refusal(err);
    }
  }

  /** Before anything is stored: the verification exists, is the caller's, and has an open signature attempt. */
  async function requireOpenAttempt(id: string): Promise<void> {
    const view = await caseView(id);
    if (!view.current || view.current.outcome) throw closed(view.current, view);
  }

  const route = { security: [{ bearer: [] }], params };

  r.post(
    '/v1/verifications/:id/actions/identity',
    {
      bodyLimit: 6 * UPLOAD_LIMIT,
      schema: {
        ...route,
        summary: 'Fourthline: upload the identity data and files (once, while the case is new)',
        body: identityBody,
        response: { 200: caseResponse, ...errors },
      },
    },
    async (req) => {
      const { files, ...identity } = req.body;
      const view = await caseView(req.params.id);
      if (view.stage !== 'identity')
        throw new ApiError(409, 'conflict', `identity data is uploaded at the identity stage, not ${view.stage}`);
      const identityRef = await json(req.params.id, 'fourthline-identity-data', identity);
      const refs = await Promise.all(
        files.map((f) =>
          store.put(
            `fourthline-identity-${f.type}`,
            f.contentType,
            Buffer.from(f.contentBase64, 'base64'),
            req.params.id,
          ),
        ),
      );
      // Refused for a moment when it meets the end of an earlier identity Update in one workflow task (the
      // workflow's identitySettledAt): sent again, a few times, before the caller is asked to.
      for (let attempt = 1; ; attempt++) {
        try {
          const { consent: _consent, ...rest } = await client.workflow
            .getHandle(req.params.id)
            .executeUpdate(identityUpdate, { args: [{ identityRef, files: refs }] });
          return rest;
        } catch (err) {
          if (err instanceof WorkflowNotFoundError)
            throw new ApiError(409, 'conflict', 'the verification has already ended');
          if (!isTryAgain(err)) throw refusal(err);
          if (attempt >= 4)
            throw new ApiError(
              503,
              'temporarily_unavailable',
              'an earlier identity upload has just ended: send the identity again',
              { 'retry-after': '1' },
            );
          await new Promise((r) => setTimeout(r, 250 * attempt));
        }
      }
    },
  );

  r.post(
    '/v1/verifications/:id/actions/documents',
    {
      bodyLimit: 11 * UPLOAD_LIMIT,
      schema: {
        ...route,
        summary: 'Fourthline: upload the documents to sign (base64 PDFs)',
        body: documentsBody,
        response: { 200: attemptResponse, ...errors },
      },
    },
    async (req) => {
      await requireOpenAttempt(req.params.id);
      const documents = await Promise.all(
        req.body.documents.map(async (d) => ({
          name: d.name,
          ref: await store.put(
            'fourthline-document-to-sign',
            'application/pdf',
            Buffer.from(d.contentBase64, 'base64'),
            req.params.id,
          ),
        })),
      );
      return { attempt: await onAttempt(req.params.id, uploadDocumentsUpdate, { documents }) };
    },
  );

  r.post(
    '/v1/verifications/:id/actions/mobile-number',
    {
      schema: {
        ...route,
        summary: "Fourthline: set the client's mobile number (passcode SMS)",
        body: mobileBody,
        response: { 200: attemptResponse, ...errors },
      },
    },
    async (req) => ({
      attempt: await requireOpenAttempt(req.params.id).then(async () =>
        onAttempt(req.params.id, setMobileNumberUpdate, {
          mobileRef: await json(req.params.id, 'fourthline-mobile-number', req.body),
        }),
      ),
    }),
  );

  r.post(
    '/v1/verifications/:id/actions/signature-details',
    {
      schema: {
        ...route,
        summary:
          'Fourthline: get the documents and legal conditions to show the client (recorded as shown, for proof of consent)',
        response: {
          200: z.object({
            attempt: attemptSchema,
            shown: consentRecord,
            passcode: z.object({
              length: z.number().nullable(),
              validitySeconds: z.number().nullable(),
              resendsLeft: z.number().nullable(),
            }),
          }),
          ...errors,
        },
      },
    },
    async (req) => {
      const d = await onAttempt(req.params.id, signatureDetailsUpdate);
      return { attempt: d.view, shown: d.shown, passcode: d.passcode };
    },
  );

  r.post(
    '/v1/verifications/:id/actions/approve',
    {
      schema: {
        ...route,
        summary: 'Fourthline: the client approved the documents and accepted the legal conditions (within 2 hours)',
        body: approveBody.nullish(),
        response: { 200: attemptResponse, ...errors },
      },
    },
    async (req) => ({ attempt: await onAttempt(req.params.id, approveUpdate, req.body ?? {}) }),
  );

  r.post(
    '/v1/verifications/:id/actions/confirm',
    {
      schema: {
        ...route,
        summary: 'Fourthline: confirm the signature with the SMS passcode (within 1 hour)',
        body: confirmBody,
        response: { 200: attemptResponse, ...errors },
      },
    },
    async (req) => {
      await requireOpenAttempt(req.params.id);
      return {
        attempt: await onAttempt(req.params.id, confirmUpdate, {
          passcodeRef: await json(req.params.id, 'fourthline-passcode', req.body),
        }),
      };
    },
  );

  r.post(
    '/v1/verifications/:id/actions/resend-passcode',
    {
      schema: {
        ...route,
        summary: 'Fourthline: resend the passcode SMS (at most 4 times)',
        response: { 200: attemptResponse, ...errors },
      },
    },
    async (req) => ({ attempt: await onAttempt(req.params.id, resendPasscodeUpdate) }),
  );

  r.post(
    '/v1/verifications/:id/actions/selfie',
    {
      bodyLimit: 2 * UPLOAD_LIMIT,
      schema: {
        ...route,
        summary: 'Fourthline: upload a selfie of the client (within 24 hours of selfie_required)',
        body: selfieBody,
        response: { 200: attemptResponse, ...errors },
      },
    },
    async (req) => {
      await requireOpenAttempt(req.params.id);
      const selfieRef = await store.put(
        'fourthline-selfie',
        req.body.contentType,
        Buffer.from(req.body.contentBase64, 'base64'),
        req.params.id,
      );
      return { attempt: await onAttempt(req.params.id, uploadSelfieUpdate, { selfieRef }) };
    },
  );

  /** For the read routes: never needs a worker (the query within 750 ms, else the view the case published). */
  async function publishedCaseView(id: string): Promise<FourthlineCaseView> {
    if (parseVerificationId(id)?.provider !== 'fourthline') throw notFound();
    const view = await readPublished(client, id, fourthlineCaseQuery, FOURTHLINE_CASE_MEMO_KEY);
    if (!view) throw new ApiError(503, 'unavailable', 'the signature view cannot be read right now; try again shortly');
    return view;
  }

  r.get(
    '/v1/verifications/:id/signature',
    {
      schema: {
        ...route,
        summary: 'Fourthline: the case, the current signature attempt and the history of attempts',
        response: { 200: caseResponse, 404: errorSchema, 503: errorSchema },
      },
    },
    async (req) => {
      const { consent: _consent, ...rest } = await publishedCaseView(req.params.id);
      return rest;
    },
  );

  r.get(
    '/v1/verifications/:id/consent',
    {
      schema: {
        ...route,
        summary:
          'Fourthline: proof of consent: which legal-condition versions and documents were shown to / accepted by which client, and when',
        response: {
          200: z.object({ id: z.string(), clientId: z.string().nullable(), records: z.array(consentRecord) }),
          404: errorSchema,
          503: errorSchema,
        },
      },
    },
    async (req) => {
      const view = await publishedCaseView(req.params.id);
      return { id: apiVerificationId(req.params.id), clientId: view.clientId, records: view.consent };
    },
  );
}
