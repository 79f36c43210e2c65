/**
 * Time bounds of the API (docs/api.md#time-bounds). Every Temporal call the API makes runs under a
 * deadline: Temporal answering slowly, or no worker taking a workflow's Update, ends in a clear answer
 * (202 for a create, 503 `temporarily_unavailable` with Retry-After otherwise), never a hang or a 500.
 */
import {
  isGrpcCancelledError,
  isGrpcDeadlineError,
  isGrpcServiceError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
} from '@temporalio/client';
import { ApiError } from './api-error';

/** gRPC status codes (not a direct dependency). */
const grpcStatus = { CANCELLED: 1, DEADLINE_EXCEEDED: 4, RESOURCE_EXHAUSTED: 8, UNAVAILABLE: 14 } as const;

/** Fastify's backstop: a handler that has not answered by then answers 503. */
export const HANDLER_TIMEOUT_MS = 30_000;
/** The Temporal calls of any other /v1 request (Updates and queries need a worker; an action may call the vendor). */
export const WORKER_CALL_MS = 20_000;
/** The create call: how long it waits for a worker to start the flow before answering 202 (see verifications.ts). */
export const CREATE_WORKER_WAIT_MS = 3_000;
/** The create call, when a worker polls the queue but is busy: how long it waits for it to take the flow. */
export const CREATE_BUSY_WORKER_WAIT_MS = 15_000;
/** The whole create call's Temporal calls (its wait for the vendor session included). */
export const CREATE_DEADLINE_MS = 25_000;
/** What the 503 asks the caller to wait before trying again. */
export const RETRY_AFTER_SECONDS = 5;

export const unavailable = () =>
  new ApiError(
    503,
    'temporarily_unavailable',
    'the verification service is busy or a worker is not running: try again shortly',
    {
      'retry-after': String(RETRY_AFTER_SECONDS),
    },
  );

/**
 * Whether the error means Temporal (or the worker behind it) did not answer in time: a gRPC deadline
 * (DEADLINE_EXCEEDED, or CANCELLED "Timeout expired" from the native connection), Temporal unreachable
 * (UNAVAILABLE), the server shedding load (RESOURCE_EXHAUSTED: a namespace or host rate limit), or an
 * Update whose RPC timed out. The API cancels no call otherwise.
 */
export function isTimeout(err: unknown): boolean {
  for (
    let e = err as { cause?: unknown } | null | undefined, depth = 0;
    e && depth < 5;
    e = e.cause as typeof e, depth++
  ) {
    if (e instanceof WorkflowUpdateRPCTimeoutOrCancelledError || isGrpcDeadlineError(e) || isGrpcCancelledError(e))
      return true;
    if (
      isGrpcServiceError(e) &&
      [
        grpcStatus.CANCELLED,
        grpcStatus.DEADLINE_EXCEEDED,
        grpcStatus.RESOURCE_EXHAUSTED,
        grpcStatus.UNAVAILABLE,
      ].includes(e.code as never)
    )
      return true;
    const code = (e as { code?: unknown }).code;
    if (
      e instanceof Error &&
      e.name === 'ServiceError' &&
      (code === grpcStatus.CANCELLED ||
        code === grpcStatus.DEADLINE_EXCEEDED ||
        code === grpcStatus.RESOURCE_EXHAUSTED ||
        code === grpcStatus.UNAVAILABLE)
    )
      return true;
  }
  return false;
}

/** What a 503 for a verification whose workflow task keeps failing asks the caller to wait. */
export const STALLED_RETRY_AFTER_SECONDS = 60;

export const stalled = () =>
  new ApiError(
    503,
    'verification_stalled',
    "the verification's workflow cannot move on (its workflow task keeps failing on the worker); operators are alerted by the workflow task failures: try again later",
    { 'retry-after': String(STALLED_RETRY_AFTER_SECONDS) },
  );

/**
 * Whether a query or Update failed because the workflow's task fails on the worker (a nondeterminism, the
 * SDK's "Fatal error in workflow machines", a workflow task failure the worker reports back to the query):
 * the verification cannot answer until a fixed build replays it. Not a bug of the request: a 503, never a 500.
 */
export function isStalledWorkflow(err: unknown): boolean {
  for (
    let e = err as { cause?: unknown; message?: unknown } | null | undefined, depth = 0;
    e && depth < 5;
    e = e.cause as typeof e, depth++
  ) {
    if (
      typeof e.message === 'string' &&
      /Fatal error in workflow machines|[Nn]ondeterminism|DeterminismViolation|[Ww]orkflow task failed/.test(e.message)
    )
      return true;
  }
  return false;
}

/**
 * Whether a query got no answer for a reason of the moment: the SDK's "Failed to query Workflow"
 * ServiceError around a gRPC code other than NOT_FOUND (a missing verification is the SDK's
 * WorkflowNotFoundError, a 404), as when a worker that has just restarted is still catching up on the
 * flow's history: a retry a moment later goes through. The request was fine and nothing changed: a 503
 * with Retry-After, logged with the gRPC code (client/errors.ts).
 */
export function isUnansweredQuery(err: unknown): boolean {
  const e = err as { name?: unknown; message?: unknown; cause?: { code?: unknown } } | null | undefined;
  return (
    !!e && e.name === 'ServiceError' && e.message === 'Failed to query Workflow' && e.cause?.code !== GRPC_NOT_FOUND
  );
}

const GRPC_NOT_FOUND = 5;

/** Runs `fn` (Temporal calls) under a deadline of `ms`; out of time, a 503 with Retry-After. */
export async function bounded<T>(client: Client, ms: number, fn: () => Promise<T>): Promise<T> {
  try {
    return await client.withDeadline(Date.now() + ms, fn);
  } catch (err) {
    if (isTimeout(err)) throw unavailable();
    throw err;
  }
}
