/**
 * Finwave Digital Onboarding API calls (../shared/vendor-docs/finwave-digital-onboarding.txt).
 *
 * Endpoint table (base URL = host + `/management`):
 * | operation          | method + path                                  | notes |
 * |--------------------|------------------------------------------------|-------|
 * | createIntegration  | POST /integrations                             | 201 {onboardingId, url, status: CREATED}; repeated customId of a started process: url null + current status |
 * | getResult          | GET  /integrations/:onboardingId/result        | partial while CREATED / INPROCESS |
 * | downloadEvidence   | GET  /integrations/:onboardingId/evidences     | ZIP. The doc's heading says GET, its method line says POST: we try GET and fall back to POST on 404 / 405 |
 * Auth: header `gestok-client-token` on every call.
 * Assumptions beyond the doc: a repeated create answers 200 (the doc gives no code); error bodies
 * may carry `{ code }` or `{ error }`; processStatus.score and steps may be null before FINISHED.
 */
import type { WebhookSecrets } from '../../config/webhook-token';
import { z } from 'zod';
import { ApplicationFailure } from '@temporalio/common';
import { log } from '@temporalio/activity';
import type { FinwaveConfig } from '../../config';
import { webhookUrl } from '../../config/webhook-token';
import type { EvidenceRef } from '../evidence-types';
import type { EvidenceStore } from '../evidence-store';
import { callVendor, FAILURE_TYPES } from '../http';

export const FINWAVE_STATUSES = ['CREATED', 'INPROCESS', 'INCOMPLETED', 'TIMEOUT', 'FINISHED'] as const;
export type FinwaveStatus = (typeof FINWAVE_STATUSES)[number];
const status = z.enum(FINWAVE_STATUSES);

const createResponse = z.object({
  onboardingId: z.string().min(1),
  url: z.string().url().nullable(),
  status,
});

const timestamp = z.object({ date: z.string().optional(), timestamp: z.number().optional() }).nullish();

export const finwaveResultSchema = z.object({
  status,
  onboardingId: z.string().min(1),
  customId: z.string().nullish(),
  processStatus: z
    .object({
      score: z.number().nullish(),
      steps: z.record(z.string(), z.boolean().nullable()).nullish(),
      startedAt: timestamp,
      finishedAt: timestamp,
      errorEvent: z.string().nullish(),
    })
    .nullish(),
  acceptations: z
    .array(z.object({ text: z.string(), accepted: z.boolean().nullish(), mandatory: z.boolean().nullish() }))
    .nullish(),
});

/** What the workflow sees of a result: statuses, scores and consents. No OCR fields, no images. */
export interface FinwaveResultSummary {
  onboardingId: string;
  status: FinwaveStatus;
  score: number | null;
  steps: Record<string, boolean | null>;
  errorEvent: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  acceptations: { text: string; accepted: boolean; mandatory: boolean }[];
  /** The full result JSON (with OCR data and images) in the evidence store, once the process ended. */
  resultRef: EvidenceRef | null;
}

export interface FinwaveCreateInput {
  workflowId: string;
  customId: string;
  applicant: { phoneCountryCode?: string; phone?: string };
  lang: 'ENG';
  phoneStep: boolean;
  acceptations: { mandatory: boolean; text: string }[];
}

export interface FinwaveDeps {
  config: FinwaveConfig;
  store: EvidenceStore;
  publicBaseUrl: string;
  webhookSecret: WebhookSecrets;
}

const errorCode = (body: unknown): string | undefined => {
  const b = body as { code?: unknown; error?: unknown } | null;
  const c = b?.code ?? b?.error;
  return typeof c === 'string' ? c : undefined;
};

export function createFinwaveActivities({ config, store, publicBaseUrl, webhookSecret }: FinwaveDeps) {
  const headers = { 'gestok-client-token': config.clientToken };
  const base = config.baseUrl;
  const vendor = 'Finwave';

  return {
    async finwaveCreateIntegration(input: FinwaveCreateInput): Promise<z.infer<typeof createResponse>> {
      const { body } = await callVendor({
        vendor,
        operation: 'createIntegration',
        method: 'POST',
        url: `${base}/integrations`,
        headers,
        json: {
          customId: input.customId,
          webhook: webhookUrl(publicBaseUrl, webhookSecret, 'finwave', input.workflowId),
          lang: input.lang,
          ...(input.applicant.phone
            ? { phoneCountryCode: input.applicant.phoneCountryCode, phone: input.applicant.phone }
            : {}),
          phoneStep: input.phoneStep,
          acceptations: input.acceptations,
          // Redirect is "not available in the test version" (doc): we ask for none.
          redirectUrl: { type: 3, url: '', waitingTime: 0 },
        },
        schema: createResponse,
        errorCode,
      });
      log.info('Finwave integration created', { onboardingId: body.onboardingId, status: body.status });
      return body;
    },

    async finwaveGetResult({ onboardingId }: { onboardingId: string }): Promise<FinwaveResultSummary> {
      const { body, raw } = await callVendor({
        vendor,
        operation: 'getResult',
        method: 'GET',
        url: `${base}/integrations/${encodeURIComponent(onboardingId)}/result`,
        headers,
        schema: finwaveResultSchema,
        errorCode,
      });
      const ended = body.status !== 'CREATED' && body.status !== 'INPROCESS';
      const resultRef = ended ? await store.put('finwave-result-json', 'application/json', raw) : null;
      const ps = body.processStatus ?? {};
      return {
        onboardingId: body.onboardingId,
        status: body.status,
        score: ps.score ?? null,
        steps: ps.steps ?? {},
        errorEvent: ps.errorEvent ?? null,
        startedAt: ps.startedAt?.date ?? null,
        finishedAt: ps.finishedAt?.date ?? null,
        acceptations: (body.acceptations ?? []).map((a) => ({
          text: a.text,
          accepted: a.accepted ?? false,
          mandatory: a.mandatory ?? false,
        })),
        resultRef,
      };
    },

    async finwaveDownloadEvidence({ onboardingId }: { onboardingId: string }): Promise<EvidenceRef> {
      const url = `${base}/integrations/${encodeURIComponent(onboardingId)}/evidences`;
      let raw: Buffer;
      try {
        raw = (
          await callVendor({
            vendor,
            operation: 'downloadEvidence',
            method: 'GET',
            url,
            headers,
            errorCode,
            timeoutMs: 120_000,
          })
        ).raw;
      } catch (err) {
        const status =
          err instanceof ApplicationFailure
            ? (err.details?.[0] as { httpStatus?: number } | undefined)?.httpStatus
            : undefined;
        if (status !== 404 && status !== 405) throw err;
        raw = (
          await callVendor({
            vendor,
            operation: 'downloadEvidence',
            method: 'POST',
            url,
            headers,
            errorCode,
            timeoutMs: 120_000,
          })
        ).raw;
      }
      if (raw.length < 4 || raw.readUInt32LE(0) !== 0x04034b50) {
        throw ApplicationFailure.create({
          message: 'Finwave downloadEvidence: unexpected response, the body is not a ZIP file',
          type: FAILURE_TYPES.invalidResponse,
          nonRetryable: true,
        });
      }
      const ref = await store.put('finwave-evidence-zip', 'application/zip', raw);
      log.info('Finwave evidence stored', { onboardingId, sha256: ref.sha256, size: ref.size });
      return ref;
    },
  };
}

export type FinwaveActivities = ReturnType<typeof createFinwaveActivities>;
