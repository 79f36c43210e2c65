/** What the API accepts for an ID360 (Docaposte) enrollment, and how it becomes the workflow input. */
import { z } from 'zod';
import type { Duration } from '@temporalio/common';
import { ID360_DEFAULTS, type Id360Input } from '../../workflows/id360';
import { duration } from './common';

const text = (max: number) => z.string().min(1).max(max);

/** Informational fields ID360 stores with the enrollment (it checks none of them). Personal data: never logged. */
export const id360Applicant = z
  .object({
    lastName: text(100),
    firstName: text(100),
    email: z.string().email().max(254),
    addressLine1: text(200),
    addressLine2: text(200),
    addressLine3: text(200),
    zipCode: text(20),
    city: text(100),
    country: text(100),
    phoneNumber: z.string().regex(/^\+?\d{6,15}$/, 'must be 6 to 15 digits, optionally with a leading +'),
    /** For ID360's consumption exports. */
    group: text(100),
  })
  .partial()
  .strict();

/** Expected values ID360 compares with what it reads on the identity document (sent locked). */
export const id360Compare = z
  .object({
    name: text(100),
    first_name: text(100),
    birth_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD'),
  })
  .partial()
  .strict();

export const id360Options = z
  .object({
    mode: z.enum(['api', 'browser']).default(ID360_DEFAULTS.mode),
    returnUrl: z
      .string()
      .url()
      .refine((u) => /^https?:\/\//.test(u), 'must start with http:// or https://')
      .optional(),
    routeId: z.number().int().positive().optional(),
    pollInterval: duration(1_000, 24 * 3_600_000).default(ID360_DEFAULTS.pollInterval),
    deadline: duration(1_000, 30 * 24 * 3_600_000).default(ID360_DEFAULTS.deadline),
  })
  .strict();

export function id360Input(
  id: string,
  reference: string,
  applicant: z.infer<typeof id360Applicant>,
  compare: z.infer<typeof id360Compare>,
  options: z.infer<typeof id360Options>,
): Id360Input {
  if (options.mode === 'browser' && !options.returnUrl) {
    throw Object.assign(
      new Error('options.returnUrl is required in browser mode (where ID360 sends the user at the end)'),
      { statusCode: 400 },
    );
  }
  // The duration strings were validated above; Temporal's Duration type is a template literal.
  const { pollInterval, deadline, ...rest } = options;
  return {
    id,
    reference,
    applicant,
    compare,
    options: { ...rest, pollInterval: pollInterval as Duration, deadline: deadline as Duration },
  };
}
