/**
 * Finwave's Digital Onboarding API (../shared/vendor-docs/finwave-digital-onboarding.txt), as both our
 * activities (which call it) and the sandbox (which serves it) read it: the one place it is described.
 * Pure (zod and types only): workflow code may import it.
 *
 * Base URL = host + `/management`; auth: header `gestok-client-token` on every call.
 * | operation         | method + path                             | answer |
 * |-------------------|-------------------------------------------|--------|
 * | createIntegration | POST /integrations                        | 201 {onboardingId, url, status: CREATED}; a repeated customId answers 200 with the same onboarding (url null once started) |
 * | getResult         | GET  /integrations/:onboardingId/result   | the result JSON, partial while CREATED / INPROCESS |
 * | downloadEvidence  | GET|POST /integrations/:onboardingId/evidences | evidence ZIP once FINISHED. The doc's heading says GET, its method line POST: a client tries GET and falls back to POST on 404 / 405; the sandbox serves both |
 * Webhook `{ onboardingId, customId, result }` POSTed to the URL given at creation on every status change,
 * unsigned (the doc documents no signature).
 *
 * Assumptions beyond the doc (the one place they are written down): a repeated create answers 200 (the
 * doc gives no code); error bodies are `{ code, message }` (a client also reads `{ error }`); a missing or
 * wrong token answers 401, an unknown onboarding 404, evidences before FINISHED 409; processStatus.score
 * and steps may be null before FINISHED.
 */
import { z } from 'zod';
import type { Endpoint } from '../endpoints';

/** The prefix of every path on the vendor's host (the base URL our config holds ends with it). */
export const FINWAVE_BASE_PATH = '/management';
export const FINWAVE_API = {
  createIntegration: { method: 'POST', path: '/integrations' },
  getResult: { method: 'GET', path: '/integrations/:onboardingId/result' },
  downloadEvidence: { method: 'GET', path: '/integrations/:onboardingId/evidences' },
  /** The same evidence call with the method the doc's method line gives. */
  downloadEvidencePost: { method: 'POST', path: '/integrations/:onboardingId/evidences' },
} as const satisfies Record<string, Endpoint>;
export const FINWAVE_TOKEN_HEADER = 'gestok-client-token';

export const FINWAVE_STATUSES = ['CREATED', 'INPROCESS', 'INCOMPLETED', 'TIMEOUT', 'FINISHED'] as const;
export type FinwaveStatus = (typeof FINWAVE_STATUSES)[number];
const status = z.enum(FINWAVE_STATUSES);

export const createIntegrationRequest = z.object({
  customId: z.string().min(1).max(200),
  webhook: z.string().url(),
  lang: z.literal('ENG', { message: 'lang: only ENG is allowed' }),
  phoneCountryCode: z
    .string()
    .regex(/^\+\d{1,4}$/, 'phoneCountryCode: must look like +34')
    .optional(),
  phone: z
    .string()
    .regex(/^\d{6,15}$/, 'phone: must be a valid phone number')
    .optional(),
  phoneStep: z.boolean().default(false),
  acceptations: z.array(z.object({ mandatory: z.boolean(), text: z.string().min(1) })).default([]),
  redirectUrl: z
    .object({ type: z.number().int().min(1).max(4), url: z.string(), waitingTime: z.number() })
    .partial()
    .optional(),
});

export const createIntegrationResponse = z.object({
  onboardingId: z.string().min(1),
  url: z.string().url().nullable(),
  status,
});

const timestamp = z.object({ date: z.string().optional(), timestamp: z.number().optional() }).nullish();

/** The result JSON: what a client reads of it (the vendor also sends OCR data, images, logs). */
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

/** The webhook body: `result` is the onboarding's status. */
export const finwaveWebhookBody = z.object({ onboardingId: z.string(), customId: z.string(), result: status });

/** Every error answer the sandbox gives: `{ code, message }`. */
export interface FinwaveError {
  code: string;
  message: string;
}
