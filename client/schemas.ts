/** Response shapes, for validation of what we send and for the OpenAPI document. */
import { z } from 'zod';

export const errorSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

const status = z.enum(['created', 'awaiting_user', 'processing', 'completed', 'failed', 'expired', 'cancelled']);

export const verificationSchema = z.object({
  id: z.string(),
  provider: z.string(),
  reference: z.string(),
  status,
  outcome: z.enum(['approved', 'rejected', 'abandoned', 'expired', 'error']).nullable(),
  providerStatus: z.string().nullable(),
  providerReference: z.string().nullable(),
  reason: z.string().nullable(),
  nextAction: z.discriminatedUnion('type', [
    z.object({ type: z.literal('redirect'), url: z.string() }),
    z.object({ type: z.literal('wait'), reason: z.string() }),
    z.object({ type: z.literal('restart'), reason: z.string() }),
    z.object({ type: z.literal('action'), action: z.string(), reason: z.string(), deadline: z.string().optional() }),
    z.object({ type: z.literal('none') }),
  ]),
  facts: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
  evidence: z.array(
    z.object({ kind: z.string(), ref: z.string(), sha256: z.string(), size: z.number(), contentType: z.string() }),
  ),
  timeline: z.array(
    z.object({
      at: z.string(),
      event: z.string(),
      status,
      providerStatus: z.string().nullable(),
      detail: z.string().optional(),
    }),
  ),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/**
 * Base64 (standard alphabet, `=` padding only at the end) checked in one linear pass. Not a regex
 * such as /^[A-Za-z0-9+/]+={0,2}$/: on a 12 MB upload V8's backtracking regex engine can throw
 * "Maximum call stack size exceeded" (seen as a 500 in a full test run), depending on how the regex
 * was compiled in that process.
 */
export function isBase64(s: string): boolean {
  let end = s.length;
  if (end > 0 && s.charCodeAt(end - 1) === 61 /* = */) end--;
  if (end > 0 && s.charCodeAt(end - 1) === 61) end--;
  if (end === 0) return false;
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    const ok =
      (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 /* + */ || c === 47; /* / */
    if (!ok) return false;
  }
  return true;
}
