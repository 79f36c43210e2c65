/** What the API accepts for an Authenteq web IDV verification, and how it becomes the workflow input. */
import { z } from 'zod';
import type { Duration } from '@temporalio/common';
import { AUTHENTEQ_DEFAULTS, type AuthenteqInput } from '../../workflows/authenteq';
import { duration, returnTo } from './common';

export const authenteqOptions = z
  .object({
    multiDocument: z.boolean().default(false),
    flowSlug: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be an Authenteq flow id (letters, digits, dash, underscore)')
      .optional(),
    returnTo: returnTo.optional(),
    deadline: duration(1_000, 7 * 24 * 3_600_000).default(AUTHENTEQ_DEFAULTS.deadline),
    maxRestarts: z.number().int().min(0).max(10).default(AUTHENTEQ_DEFAULTS.maxRestarts),
    exchangeAttempts: z.number().int().min(1).max(10).default(AUTHENTEQ_DEFAULTS.exchangeAttempts),
  })
  .strict();

export function authenteqInput(
  id: string,
  reference: string,
  options: z.infer<typeof authenteqOptions>,
): AuthenteqInput {
  const { deadline, flowSlug, returnTo: to, ...rest } = options;
  // The duration string was validated above; Temporal's Duration type is a template literal.
  return {
    id,
    reference,
    options: { ...rest, flowSlug: flowSlug ?? null, returnTo: to ?? null, deadline: deadline as Duration },
  };
}
