/** What the API accepts for a Finwave verification, and how it becomes the workflow input. */
import { z } from 'zod';
import type { Duration } from '@temporalio/common';
import { FINWAVE_DEFAULTS, type FinwaveInput } from '../../workflows/finwave';
import { duration } from './common';

export const finwaveApplicant = z
  .object({
    phoneCountryCode: z
      .string()
      .regex(/^\+\d{1,4}$/, 'must look like "+34"')
      .optional(),
    phone: z
      .string()
      .regex(/^\d{6,15}$/, 'must be 6 to 15 digits')
      .optional(),
  })
  .strict()
  .refine((a) => Boolean(a.phone) === Boolean(a.phoneCountryCode), 'phone and phoneCountryCode go together');

export const finwaveOptions = z
  .object({
    phoneStep: z.boolean().default(false),
    acceptations: z
      .array(z.object({ mandatory: z.boolean(), text: z.string().min(1).max(2000) }).strict())
      .max(20)
      .default([]),
    minScore: z.number().min(0).max(100).default(FINWAVE_DEFAULTS.minScore),
    pollInterval: duration(1_000, 24 * 3_600_000).default(FINWAVE_DEFAULTS.pollInterval),
    deadline: duration(1_000, 30 * 24 * 3_600_000).default(FINWAVE_DEFAULTS.deadline),
  })
  .strict();

export function finwaveInput(
  id: string,
  reference: string,
  applicant: z.infer<typeof finwaveApplicant>,
  options: z.infer<typeof finwaveOptions>,
): FinwaveInput {
  if (options.phoneStep && !applicant.phone) {
    throw Object.assign(new Error('options.phoneStep needs applicant.phone'), { statusCode: 400 });
  }
  // The duration strings were validated above; Temporal's Duration type is a template literal.
  const { pollInterval, deadline, ...rest } = options;
  return {
    id,
    reference,
    applicant,
    options: { lang: 'ENG', ...rest, pollInterval: pollInterval as Duration, deadline: deadline as Duration },
  };
}
