/**
 * Finwave Digital Onboarding activities (../shared/vendor-docs/finwave-digital-onboarding.txt). The API
 * they call (endpoints, statuses, bodies, assumptions beyond the doc) is described in ./api.ts, shared
 * with sandboxes/finwave.
 */
import type { WebhookSecrets } from '../../config/webhook-token';
import type { z } from 'zod';
import { ApplicationFailure } from '@temporalio/common';
import { log } from '@temporalio/activity';
import type { FinwaveConfig } from '../../config/vendors/finwave-config';
import { webhookUrl } from '../../config/webhook-token';
import type { EvidenceRef } from '../evidence-types';
import type { EvidenceStore } from '../evidence-store';
import { callVendor, FAILURE_TYPES } from '../http';
import { fillPath } from '../endpoints';
import {
  createIntegrationResponse,
  FINWAVE_API,
  FINWAVE_TOKEN_HEADER,
  finwaveResultSchema,
  type createIntegrationRequest,
  type FinwaveStatus,
} from './api';

export { FINWAVE_STATUSES, finwaveResultSchema, type FinwaveStatus } from './api';

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
  const headers = { [FINWAVE_TOKEN_HEADER]: config.clientToken };
  const base = config.baseUrl;
  const vendor = 'Finwave';

  return {
    async finwaveCreateIntegration(input: FinwaveCreateInput): Promise<z.infer<typeof createIntegrationResponse>> {
      const { body } = await callVendor({
        vendor,
        operation: 'createIntegration',
        method: FINWAVE_API.createIntegration.method,
        url: `${base}${FINWAVE_API.createIntegration.path}`,
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
        } satisfies z.input<typeof createIntegrationRequest>,
        schema: createIntegrationResponse,
        errorCode,
      });
      log.info('Finwave integration created', { onboardingId: body.onboardingId, status: body.status });
      return body;
    },

    async finwaveGetResult({ onboardingId }: { onboardingId: string }): Promise<FinwaveResultSummary> {
      const { body, raw } = await callVendor({
        vendor,
        operation: 'getResult',
        method: FINWAVE_API.getResult.method,
        url: `${base}${fillPath(FINWAVE_API.getResult.path, { onboardingId })}`,
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
      const url = `${base}${fillPath(FINWAVE_API.downloadEvidence.path, { onboardingId })}`;
      let raw: Buffer;
      try {
        raw = (
          await callVendor({
            vendor,
            operation: 'downloadEvidence',
            method: FINWAVE_API.downloadEvidence.method,
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
            method: FINWAVE_API.downloadEvidencePost.method,
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
