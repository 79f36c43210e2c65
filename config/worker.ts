/**
 * Worker tuning: the workflow cache and the sticky queue, per Temporal Worker (workers/index.ts).
 *
 * The SDK sizes each Worker's workflow cache from the heap (about 2,300 workflows at Node's default
 * 4 GB heap, and the worker process runs one Worker per task queue), so thousands of flows parked on
 * day-long timers stay cached, and resident, for nothing. A bounded cache evicts them; the next event
 * of an evicted flow replays its (short) history once. Unset: the SDK's defaults. `npm run bench`
 * (p3) measures the effect.
 */
import { z } from 'zod';

export const WORKER_ENV = {
  /** Workflows kept in each Worker's cache (0 disables the cache: every task replays). */
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).max(100_000).optional(),
  /** How long a task waits on a cached worker's sticky queue before any worker takes it, e.g. `5s`. */
  WORKER_STICKY_QUEUE_TIMEOUT: z
    .string()
    .regex(/^\d+(ms|s|m)$/, 'must be a duration such as 500ms, 5s or 1m')
    .optional(),
};

export interface WorkerTuning {
  maxCachedWorkflows?: number;
  stickyQueueScheduleToStartTimeout?: `${number}${'ms' | 's' | 'm'}`;
}

export function workerTuning(e: { WORKER_MAX_CACHED_WORKFLOWS?: number; WORKER_STICKY_QUEUE_TIMEOUT?: string }): WorkerTuning {
  return {
    ...(e.WORKER_MAX_CACHED_WORKFLOWS !== undefined ? { maxCachedWorkflows: e.WORKER_MAX_CACHED_WORKFLOWS } : {}),
    ...(e.WORKER_STICKY_QUEUE_TIMEOUT ? { stickyQueueScheduleToStartTimeout: e.WORKER_STICKY_QUEUE_TIMEOUT as WorkerTuning['stickyQueueScheduleToStartTimeout'] } : {}),
  };
}
