/**
 * The providers the API can start, with the body each accepts. A new vendor adds one entry here,
 * one to the union below, and its workflow to workflows/index.ts.
 */
import { z } from 'zod';
import { durationMs, reference } from './common';
import { ApiError } from '../errors';
import { finwaveApplicant, finwaveInput, finwaveOptions } from './finwave';
import { fourthlineInput, fourthlineOptions } from './fourthline';
import { authenteqInput, authenteqOptions } from './authenteq';
import { namirialApplicant, namirialInput, namirialOptions } from './namirial';
import { id360Applicant, id360Compare, id360Input, id360Options } from './id360';

export const createVerificationBody = z.discriminatedUnion('provider', [
  z
    .object({
      provider: z.literal('fourthline'),
      reference,
      options: fourthlineOptions.default(fourthlineOptions.parse({})),
    })
    .strict(),
  z
    .object({
      provider: z.literal('finwave'),
      reference,
      applicant: finwaveApplicant.default({}),
      options: finwaveOptions.default(finwaveOptions.parse({})),
    })
    .strict(),
  z
    .object({
      provider: z.literal('authenteq'),
      reference,
      options: authenteqOptions.default(authenteqOptions.parse({})),
    })
    .strict(),
  z
    .object({
      provider: z.literal('namirial'),
      reference,
      applicant: namirialApplicant,
      options: namirialOptions.default(namirialOptions.parse({})),
    })
    .strict(),
  z
    .object({
      provider: z.literal('id360'),
      reference,
      applicant: id360Applicant.default({}),
      compare: id360Compare.default({}),
      options: id360Options.default(id360Options.parse({})),
    })
    .strict(),
]);
export type CreateVerificationBody = z.infer<typeof createVerificationBody>;

/** Workflow type + input for a validated body. */
export function workflowStart(id: string, body: CreateVerificationBody): { workflowType: string; input: unknown } {
  switch (body.provider) {
    case 'fourthline':
      return { workflowType: 'fourthlineCase', input: fourthlineInput(id, body.reference, body.options) };
    case 'finwave':
      return {
        workflowType: 'finwaveOnboarding',
        input: finwaveInput(id, body.reference, body.applicant, body.options),
      };
    case 'authenteq':
      return { workflowType: 'authenteqVerification', input: authenteqInput(id, body.reference, body.options) };
    case 'namirial':
      return {
        workflowType: 'namirialEnrollment',
        input: namirialInput(id, body.reference, body.applicant, body.options),
      };
    case 'id360':
      return {
        workflowType: 'id360Enrollment',
        input: id360Input(id, body.reference, body.applicant, body.compare, body.options),
      };
  }
}

/**
 * History stays bounded whatever the caller asks: every poll adds events to the workflow's history,
 * so the API refuses a poll interval under the floor (1 minute; lower only in development tests).
 * The deadlines' ceilings are in each vendor's schema.
 */
export function checkHistoryBounds(body: CreateVerificationBody, minPollIntervalMs: number): void {
  const options = body.options as { pollInterval?: string };
  if (options.pollInterval === undefined) return;
  if (durationMs(options.pollInterval) < minPollIntervalMs) {
    const floor =
      minPollIntervalMs % 60_000 === 0
        ? `${minPollIntervalMs / 60_000} minute(s)`
        : `${minPollIntervalMs / 1000} second(s)`;
    throw new ApiError(
      400,
      'invalid_request',
      `body.options.pollInterval: the poll interval must be at least ${floor} (each poll grows the verification's history); got "${options.pollInterval}"`,
    );
  }
}
