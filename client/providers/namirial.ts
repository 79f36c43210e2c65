/** What the API accepts for a Namirial VerifID enrollment, and how it becomes the workflow input. */
import { z } from 'zod';
import type { Duration } from '@temporalio/common';
import { NAMIRIAL_DEFAULTS, type NamirialInput } from '../../workflows/namirial';
import { duration, returnTo } from './common';

const name = z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters');

/** Namirial refuses an empty name (400): we say so first, naming the field. */
export const namirialApplicant = z
  .object({
    firstName: name,
    lastName: name,
    email: z.email('must be an email address').max(254),
  })
  .strict();

export const namirialOptions = z
  .object({
    language: z
      .string()
      .regex(/^[a-z]{2}$/, 'must be a two-letter language code such as "it"')
      .default(NAMIRIAL_DEFAULTS.language),
    returnTo: returnTo.optional(),
    deadline: duration(1_000, 30 * 24 * 3_600_000).default(NAMIRIAL_DEFAULTS.deadline),
    pollInterval: duration(1_000, 24 * 3_600_000).default(NAMIRIAL_DEFAULTS.pollInterval),
    recheckInterval: duration(1_000, 3_600_000).default(NAMIRIAL_DEFAULTS.recheckInterval),
  })
  .strict();

export function namirialInput(
  id: string,
  reference: string,
  applicant: z.infer<typeof namirialApplicant>,
  options: z.infer<typeof namirialOptions>,
): NamirialInput {
  const { deadline, pollInterval, recheckInterval, returnTo: to, language } = options;
  // The duration strings were validated above; Temporal's Duration type is a template literal.
  return {
    id,
    reference,
    applicant,
    options: {
      language,
      returnTo: to ?? null,
      deadline: deadline as Duration,
      pollInterval: pollInterval as Duration,
      recheckInterval: recheckInterval as Duration,
    },
  };
}
