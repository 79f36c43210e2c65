/**
 * What the API accepts for a Fourthline verification (identity case + qualified signature), and how
 * it becomes the workflow input. No personal data here: the identity data, files, documents, mobile
 * number, selfie and passcode come later as actions (client/actions/fourthline.ts), into the
 * evidence store.
 */
import { z } from 'zod';
import type { Duration } from '@temporalio/common';
import { FOURTHLINE_DEFAULTS, type FourthlineCaseInput } from '../../workflows/fourthline';
import { duration } from './common';

const H = 3_600_000;

export const fourthlineOptions = z
  .object({
    flow: z.enum(['completed', 'pending']).default(FOURTHLINE_DEFAULTS.flow),
    language: z
      .string()
      .regex(/^[a-z]{2}$/, 'must be a two-letter language code such as "fr"')
      .default(FOURTHLINE_DEFAULTS.language),
    maxSignatureAttempts: z.number().int().min(1).max(5).default(FOURTHLINE_DEFAULTS.maxSignatureAttempts),
    // The vendor's windows: their real values by default. Shorter values are for tests.
    approvalWindow: duration(1_000, 48 * H).default(FOURTHLINE_DEFAULTS.approvalWindow),
    confirmationWindow: duration(1_000, 48 * H).default(FOURTHLINE_DEFAULTS.confirmationWindow),
    passcodeValidity: duration(1_000, 48 * H).default(FOURTHLINE_DEFAULTS.passcodeValidity),
    selfieWindow: duration(1_000, 48 * H).default(FOURTHLINE_DEFAULTS.selfieWindow),
    errorAfter: duration(1_000, 48 * H).default(FOURTHLINE_DEFAULTS.errorAfter),
    identityDeadline: duration(1_000, 30 * 24 * H).default(FOURTHLINE_DEFAULTS.identityDeadline),
    caseDeadline: duration(1_000, 90 * 24 * H).default(FOURTHLINE_DEFAULTS.caseDeadline),
    pollInterval: duration(1_000, 24 * H).default(FOURTHLINE_DEFAULTS.pollInterval),
  })
  .strict();

export function fourthlineInput(
  id: string,
  reference: string,
  options: z.infer<typeof fourthlineOptions>,
): FourthlineCaseInput {
  // The duration strings were validated above; Temporal's Duration type is a template literal.
  const d = (s: string) => s as Duration;
  return {
    id,
    reference,
    options: {
      flow: options.flow,
      language: options.language,
      maxSignatureAttempts: options.maxSignatureAttempts,
      approvalWindow: d(options.approvalWindow),
      confirmationWindow: d(options.confirmationWindow),
      passcodeValidity: d(options.passcodeValidity),
      selfieWindow: d(options.selfieWindow),
      errorAfter: d(options.errorAfter),
      identityDeadline: d(options.identityDeadline),
      caseDeadline: d(options.caseDeadline),
      pollInterval: d(options.pollInterval),
    },
  };
}
