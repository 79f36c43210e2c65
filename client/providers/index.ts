/**
 * The create body (`POST /v1/verifications`): one strict object per vendor of the registry, told apart
 * by `provider`, and how a validated body becomes its workflow's start. Each vendor's fields and input
 * builder are its contract's `api` (config/vendors/<vendor>.ts, over client/providers/<vendor>.ts).
 */
import { z } from 'zod';
import { durationMs, reference } from './common';
import { ApiError } from '../api-error';
import type { VendorContract, VendorRegistry } from '../../config/vendors/contract';

/** The body schema for the vendors of `registry`, a discriminated union on `provider` (registry order). */
export function createVerificationBodyOf(registry: VendorRegistry) {
  const bodies = Object.values(registry).map((v) =>
    z.object({ provider: z.literal(v.name), reference, ...v.api.body }).strict(),
  );
  if (bodies.length === 0) throw new Error('the vendor registry is empty');
  return z.discriminatedUnion('provider', bodies as [(typeof bodies)[number], ...typeof bodies]);
}

/** A validated body: the provider, the reference, and the vendor's own fields. */
export type CreateVerificationBody = { provider: string; reference: string } & Record<string, unknown>;

/** Workflow type + input for a validated body of `vendor`. */
export function workflowStart(
  vendor: VendorContract,
  id: string,
  body: CreateVerificationBody,
): { workflowType: string; input: unknown } {
  return { workflowType: vendor.workflows.start, input: vendor.api.input(id, body as never) };
}

/**
 * History stays bounded whatever the caller asks: every poll adds events to the workflow's history,
 * so the API refuses a poll interval under the floor (1 minute; lower only in development tests).
 * The deadlines' ceilings are in each vendor's schema.
 */
export function checkHistoryBounds(body: CreateVerificationBody, minPollIntervalMs: number): void {
  const options = body.options as { pollInterval?: string } | undefined;
  if (options?.pollInterval === undefined) return;
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
