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
 *
 * The bodies and answers are in fourthline-schemas.ts; reading the case, running the Updates and
 * answering their refusals in fourthline-updates.ts.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { EvidenceStore } from '../../activities/evidence-store';
import {
  approveUpdate,
  confirmUpdate,
  identityUpdate,
  resendPasscodeUpdate,
  setMobileNumberUpdate,
  signatureDetailsUpdate,
  uploadDocumentsUpdate,
  uploadSelfieUpdate,
} from '../../workflows/fourthline';
import { apiVerificationId } from '../../workflows/shared';
import { ApiError } from '../api-error';
import { errorSchema } from '../schemas';
import {
  actionErrors as errors,
  approveBody,
  attemptResponse,
  attemptSchema,
  caseResponse,
  confirmBody,
  consentRecord,
  documentsBody,
  identityBody,
  mobileBody,
  selfieBody,
  UPLOAD_LIMIT,
} from './fourthline-schemas';
import { fourthlineUpdates } from './fourthline-updates';

export function registerFourthlineActions(app: FastifyInstance, deps: { client: Client; store: EvidenceStore }): void {
  const { client, store } = deps;
  const r = app.withTypeProvider<ZodTypeProvider>();
  const params = z.object({ id: z.string().min(1).max(200) });
  const { json, caseView, isTryAgain, refusal, onAttempt, requireOpenAttempt, publishedCaseView } =
    fourthlineUpdates(deps);

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
