/**
 * The providers the API can start, with the body each accepts. A new vendor adds one entry here,
 * one to the union below, and its workflow to workflows/index.ts.
 */
import { z } from 'zod';
import { reference } from './common';
import { finwaveApplicant, finwaveInput, finwaveOptions } from './finwave';

export const createVerificationBody = z.discriminatedUnion('provider', [
  z
    .object({
      provider: z.literal('finwave'),
      reference,
      applicant: finwaveApplicant.default({}),
      options: finwaveOptions.default(finwaveOptions.parse({})),
    })
    .strict(),
]);
export type CreateVerificationBody = z.infer<typeof createVerificationBody>;

/** Workflow type + input for a validated body. */
export function workflowStart(id: string, body: CreateVerificationBody): { workflowType: string; input: unknown } {
  switch (body.provider) {
    case 'finwave':
      return { workflowType: 'finwaveOnboarding', input: finwaveInput(id, body.reference, body.applicant, body.options) };
  }
}
