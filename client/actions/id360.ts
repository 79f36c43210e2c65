/**
 * ID360 API mode: the steps our caller's backend performs for the user, as actions on the verification.
 *
 *   POST /v1/verifications/:id/actions/consent               { acceptedCgu: true, acceptedBiometry }
 *   POST /v1/verifications/:id/actions/upload-document-page  { page, totalPages, contentType, data (base64) }
 *   POST /v1/verifications/:id/actions/upload-selfie         { contentType, data (base64) }
 *   POST /v1/verifications/:id/actions/finalize              {}
 *
 * Uploaded bytes go to the evidence store first; the workflow gets only the EvidenceRef, through an
 * Update whose validator refuses a step out of order (409) before anything is recorded in the workflow.
 * The answer is the verification, whose `nextAction` names the next step. ID360 refusing the step itself
 * (format, size) is a 4xx with ID360's code in the message; ID360 not answering is a 502.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { EvidenceStore } from '../../activities/evidence-store';
import {
  ID360_ACTION_FAILURES,
  ID360_MAX_PAGES,
  id360ConsentUpdate,
  id360FinalizeUpdate,
  id360UploadPageUpdate,
  id360UploadSelfieUpdate,
} from '../../workflows/id360';
import { parseVerificationId, stateQuery, TERMINAL_STATUSES, type VerificationState } from '../../workflows/shared';
import { ApiError, notFound } from '../api-error';
import { errorSchema, isBase64, verificationSchema } from '../schemas';
import { view } from '../verifications';
import { hasClosed } from '../workflow-status';

/** ID360 takes up to 9.5 MB a page; base64 adds a third, and the JSON around it a little. */
const UPLOAD_BODY_LIMIT = 14 * 1024 * 1024;
const MAX_BASE64 = 13_500_000;

const base64 = z
  .string()
  .min(4, 'must be the file, base64-encoded')
  .max(MAX_BASE64, 'is too large (ID360 takes up to 9.5 MB per file)')
  .refine(isBase64, 'must be base64 (no data: prefix, no line breaks)');

const pageBody = z
  .object({
    page: z
      .number()
      .int()
      .min(0)
      .max(ID360_MAX_PAGES - 1)
      .describe('0-based index of this page'),
    totalPages: z
      .number()
      .int()
      .min(1)
      .max(ID360_MAX_PAGES)
      .describe('pages of the document, e.g. 2 for the front and back of an ID card'),
    contentType: z.enum(['image/jpeg', 'image/png', 'application/pdf', 'image/heic']),
    data: base64,
  })
  .strict()
  .refine((b) => b.page < b.totalPages, { message: 'page must be less than totalPages', path: ['page'] });

const selfieBody = z
  .object({
    contentType: z.enum(['image/jpeg', 'image/png', 'image/heic']),
    data: base64,
  })
  .strict();

const consentBody = z
  .object({
    acceptedCgu: z.literal(true, { message: "must be true: ID360 needs the user's acceptance of its terms" }),
    acceptedBiometry: z.boolean().describe('true when a selfie will be uploaded for the face comparison'),
  })
  .strict();

const params = z.object({ id: z.string().min(1).max(200) });
const responses = {
  200: verificationSchema,
  400: errorSchema,
  404: errorSchema,
  409: errorSchema,
  413: errorSchema,
  422: errorSchema,
  502: errorSchema,
};

export function registerId360Actions(app: FastifyInstance, deps: { client: Client; store: EvidenceStore }): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { client, store } = deps;
  const handle = (id: string) => {
    if (parseVerificationId(id)?.provider !== 'id360') throw notFound();
    return client.workflow.getHandle(id);
  };

  /**
   * Before any byte is stored: the verification exists (for this caller), has not ended, and takes
   * uploads now (the consent is recorded). Anything else stores nothing.
   */
  const acceptsUploads = async (h: WorkflowHandle) => {
    let state: VerificationState;
    try {
      state = await h.query(stateQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw notFound();
      throw err;
    }
    if (TERMINAL_STATUSES.includes(state.status))
      throw new ApiError(409, 'conflict', 'the verification has already ended');
    const step = state.nextAction.type === 'action' ? state.nextAction.action : null;
    if (step === 'consent') throw new ApiError(409, 'conflict', 'record the consent first'); // as the workflow's validator says it
    if (!step)
      throw new ApiError(409, 'conflict', `the verification takes no upload now (next: ${state.nextAction.type})`);
  };

  r.post(
    '/v1/verifications/:id/actions/consent',
    {
      schema: {
        summary: "ID360 (API mode): record the user's consent to ID360's terms, and to biometry for a selfie",
        security: [{ bearer: [] }],
        params,
        body: consentBody,
        response: responses,
      },
    },
    async (req) => {
      const h = handle(req.params.id);
      return view(await act(h, () => h.executeUpdate(id360ConsentUpdate, { args: [req.body] })));
    },
  );

  r.post(
    '/v1/verifications/:id/actions/upload-document-page',
    {
      bodyLimit: UPLOAD_BODY_LIMIT,
      schema: {
        summary: 'ID360 (API mode): upload one page of the identity document (one request per page)',
        description:
          'JSON with the page as base64 (jpg, png, pdf or heic, up to 9.5 MB). Re-sending a page replaces it.',
        security: [{ bearer: [] }],
        params,
        body: pageBody,
        response: responses,
      },
    },
    async (req) => {
      const h = handle(req.params.id);
      await acceptsUploads(h);
      const document = await store.put(
        `id360-document-page-${req.body.page}`,
        req.body.contentType,
        decode(req.body.data),
        req.params.id,
      );
      return view(
        await act(h, () =>
          h.executeUpdate(id360UploadPageUpdate, {
            args: [{ page: req.body.page, totalPages: req.body.totalPages, document }],
          }),
        ),
      );
    },
  );

  r.post(
    '/v1/verifications/:id/actions/upload-selfie',
    {
      bodyLimit: UPLOAD_BODY_LIMIT,
      schema: {
        summary: 'ID360 (API mode): upload the selfie for the face comparison (needs the biometry consent)',
        security: [{ bearer: [] }],
        params,
        body: selfieBody,
        response: responses,
      },
    },
    async (req) => {
      const h = handle(req.params.id);
      await acceptsUploads(h);
      const selfie = await store.put('id360-selfie', req.body.contentType, decode(req.body.data), req.params.id);
      return view(await act(h, () => h.executeUpdate(id360UploadSelfieUpdate, { args: [{ selfie }] })));
    },
  );

  r.post(
    '/v1/verifications/:id/actions/finalize',
    {
      schema: {
        summary: 'ID360 (API mode): finalize the enrollment once every document is in (mandatory)',
        security: [{ bearer: [] }],
        params,
        body: z.object({}).strict().nullish(),
        response: responses,
      },
    },
    async (req) => {
      const h = handle(req.params.id);
      return view(await act(h, () => h.executeUpdate(id360FinalizeUpdate)));
    },
  );
}

function decode(data: string): Buffer {
  const bytes = Buffer.from(data, 'base64');
  if (!bytes.length) throw new ApiError(400, 'invalid_request', 'body.data: is empty');
  return bytes;
}

/** Runs the action's Update; maps its refusals to the caller's 4xx. */
async function act(h: WorkflowHandle, update: () => Promise<VerificationState>): Promise<VerificationState> {
  try {
    return await update();
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      const cause = err.cause instanceof ApplicationFailure ? err.cause : undefined;
      const message = cause?.message ?? 'the step was refused';
      if (cause?.type === ID360_ACTION_FAILURES.rejected) {
        const status = (cause.details?.[0] as { httpStatus?: number } | undefined)?.httpStatus;
        if (status === 413) throw new ApiError(413, 'payload_too_large', `ID360 refused the file: ${message}`);
        throw new ApiError(422, 'vendor_rejected', `ID360 refused the step: ${message}`);
      }
      if (cause?.type === ID360_ACTION_FAILURES.unavailable) throw new ApiError(502, 'vendor_unavailable', message);
      throw new ApiError(409, 'conflict', message);
    }
    if (err instanceof WorkflowNotFoundError) {
      if (await hasClosed(h)) throw new ApiError(409, 'conflict', 'the verification has already ended');
      throw notFound();
    }
    throw err;
  }
}
