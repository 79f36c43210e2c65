/**
 * Time bounds of the API (README "Time bounds"). Every Temporal call the API makes runs under a
 * deadline: Temporal answering slowly, or no worker taking a workflow's Update, ends in a clear answer
 * (202 for a create, 503 `temporarily_unavailable` with Retry-After otherwise), never a hang or a 500.
 */
import { isGrpcDeadlineError, isGrpcServiceError, type Client } from '@temporalio/client';
import { ApiError } from './errors';

/** gRPC status codes (not a direct dependency). */
const grpcStatus = { DEADLINE_EXCEEDED: 4, UNAVAILABLE: 14 } as const;

/** Fastify's backstop: a handler that has not answered by then answers 503. */
export const HANDLER_TIMEOUT_MS = 30_000;
/** A call that only the Temporal server answers (start, describe, signal). */
export const SERVER_CALL_MS = 5_000;
/** A call that needs a worker (Update, query): the worker must pick it up by then. */
export const WORKER_CALL_MS = 10_000;
/** The create call: how long it waits for a worker to start the flow before answering 202 (see verifications.ts). */
export const CREATE_WORKER_WAIT_MS = 4_000;
/** What the 503 asks the caller to wait before trying again. */
export const RETRY_AFTER_SECONDS = 5;

export const unavailable = () =>
  new ApiError(503, 'temporarily_unavailable', 'the verification service is busy or a worker is not running: try again shortly', {
    'retry-after': String(RETRY_AFTER_SECONDS),
  });

/** Whether the error means Temporal (or the worker behind it) did not answer in time. */
export function isTimeout(err: unknown): boolean {
  if (isGrpcDeadlineError(err)) return true;
  const e = err as { code?: number; cause?: unknown } | null;
  if (isGrpcServiceError(err) && (err.code === grpcStatus.UNAVAILABLE || err.code === grpcStatus.DEADLINE_EXCEEDED)) return true;
  if (e?.cause && isGrpcServiceError(e.cause)) return (e.cause as { code?: number }).code === grpcStatus.DEADLINE_EXCEEDED;
  return false;
}

/** Runs `fn` (Temporal calls) under a deadline of `ms`; out of time, a 503 with Retry-After. */
export async function bounded<T>(client: Client, ms: number, fn: () => Promise<T>): Promise<T> {
  try {
    return await client.withDeadline(Date.now() + ms, fn);
  } catch (err) {
    if (isTimeout(err)) throw unavailable();
    throw err;
  }
}
