/**
 * Worker settings (workers/index.ts), per Temporal Worker:
 *
 * - the workflow cache and the sticky queue. The SDK would size the workflow cache from the heap (about
 *   2,300 workflows at Node's default 4 GB heap), so thousands of flows parked on day-long timers would
 *   stay cached, and resident, for nothing: about 0.7 MB each (docs/performance.md#worker-memory-the-levers-measured-one-at-a-time). The
 *   default, DEFAULT_MAX_CACHED_WORKFLOWS, keeps the flows being worked on cached (creates, webhooks,
 *   human steps come seconds apart) and evicts the parked ones; the next event of an evicted flow
 *   replays its (short) history once. The sticky queue timeout stays the SDK's unless set.
 * - slots: how many activities and workflow tasks one vendor Worker runs at once (unset: the SDK's).
 * - per-vendor rate limits: activities per second on each vendor's task queue, enforced by the Temporal
 *   server for the whole queue (`maxTaskQueueActivitiesPerSecond`), so every worker replica together
 *   stays under the vendor's quota. The vendors' documents (shared vendor-docs) state no quota; the
 *   default is a conservative 20 per second per vendor: set your contract's figure.
 * - where the worker serves its Prometheus metrics (the SDK runtime's exporter), off unless set.
 * - Worker Deployment Versioning (WORKER_DEPLOYMENT_NAME, WORKER_BUILD_ID, read in config/index.ts):
 *   required in production (workerVersioningError).
 */
import { z } from 'zod';
import { PROVIDERS as VENDORS, type VendorName as Vendor } from './vendors';
import type { TelemetryConfig, VendorWorkerLimits, WorkerTuning } from './app-config';

/**
 * Workflows the workflow Worker keeps cached. Above the SDK's 40 workflow-task slots (a slot needs a
 * cached workflow), far below the SDK's heap-sized default: measured, docs/performance.md#worker-memory-the-levers-measured-one-at-a-time.
 */
export const DEFAULT_MAX_CACHED_WORKFLOWS = 100;

/** Activities per second per vendor task queue when VENDOR_RATE_LIMITS does not name the vendor. */
export const DEFAULT_VENDOR_ACTIVITIES_PER_SECOND = 20;

const RATE_FORMAT = `must be a comma list of vendor:rate (vendor one of ${VENDORS.join(', ')} or *; rate activities per second, > 0 and <= 10000, or off)`;

/** `<vendor>:5,<vendor>:2,*:20`: activities per second per vendor task queue; `off` = no limit; `*` for the others. */
export function parseVendorRateLimits(raw: string): Record<Vendor, number | null> | string {
  const out = Object.fromEntries(VENDORS.map((v) => [v, DEFAULT_VENDOR_ACTIVITIES_PER_SECOND])) as Record<
    Vendor,
    number | null
  >;
  const entries = raw
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (entries.length === 0) return RATE_FORMAT;
  const seen = new Set<string>();
  const parsed: [string, number | null][] = [];
  for (const part of entries) {
    const m = /^([a-z0-9*]+):(off|\d+(?:\.\d+)?)$/.exec(part);
    if (!m || (m[1] !== '*' && !(VENDORS as readonly string[]).includes(m[1]!)) || seen.has(m[1]!)) return RATE_FORMAT;
    seen.add(m[1]!);
    const rate = m[2] === 'off' ? null : Number(m[2]);
    if (rate !== null && !(rate > 0 && rate <= 10_000)) return RATE_FORMAT;
    parsed.push([m[1]!, rate]);
  }
  const wildcard = parsed.find(([v]) => v === '*');
  if (wildcard) for (const v of VENDORS) out[v] = wildcard[1];
  for (const [v, rate] of parsed) if (v !== '*') out[v as Vendor] = rate;
  return out;
}

const slots = z.coerce.number().int().min(1).max(10_000).optional();

export const WORKER_ENV = {
  /** Workflows kept in each workflow Worker's cache (0 disables the cache: every task replays). */
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).max(100_000).default(DEFAULT_MAX_CACHED_WORKFLOWS),
  /** How long a task waits on a cached worker's sticky queue before any worker takes it, e.g. `5s`. */
  WORKER_STICKY_QUEUE_TIMEOUT: z
    .string()
    .regex(/^\d+(ms|s|m)$/, 'must be a duration such as 500ms, 5s or 1m')
    .optional(),
  /** Activity slots of each vendor Worker (SDK default 100). */
  WORKER_MAX_CONCURRENT_ACTIVITIES: slots,
  /** Workflow task slots of each vendor Worker (SDK default 40). */
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: slots,
  /** Activities per second per vendor task queue (server-side, all replicas together). */
  VENDOR_RATE_LIMITS: z
    .string()
    .transform((raw, ctx) => {
      const limits = parseVendorRateLimits(raw);
      if (typeof limits === 'string') {
        ctx.addIssue({ code: 'custom', message: limits });
        return z.NEVER;
      }
      return limits;
    })
    .optional(),
  /** The worker's Prometheus endpoint (the SDK runtime's metrics and our vendor-call histogram): off unless set. */
  WORKER_METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  WORKER_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
};

/**
 * The one line a worker refuses to start with, or null. In production every worker runs versioned:
 * a verification stays on the build that started it (PINNED), so a deploy never replays a running
 * verification on other code; without a deployment name and build id, a new build would take over
 * every running verification at its next workflow task.
 */
export function workerVersioningError(config: {
  env: 'development' | 'production';
  workerDeployment: { deploymentName: string; buildId: string } | null;
}): string | null {
  if (config.env !== 'production' || config.workerDeployment) return null;
  return 'Configuration error: WORKER_DEPLOYMENT_NAME and WORKER_BUILD_ID are required in production (Worker Deployment Versioning: each verification stays on the build that started it)';
}

export function workerTuning(e: {
  WORKER_MAX_CACHED_WORKFLOWS?: number;
  WORKER_STICKY_QUEUE_TIMEOUT?: string;
}): WorkerTuning {
  return {
    maxCachedWorkflows: e.WORKER_MAX_CACHED_WORKFLOWS ?? DEFAULT_MAX_CACHED_WORKFLOWS,
    ...(e.WORKER_STICKY_QUEUE_TIMEOUT
      ? {
          stickyQueueScheduleToStartTimeout:
            e.WORKER_STICKY_QUEUE_TIMEOUT as WorkerTuning['stickyQueueScheduleToStartTimeout'],
        }
      : {}),
  };
}

export function vendorWorkerLimits(e: {
  VENDOR_RATE_LIMITS?: Record<Vendor, number | null>;
  WORKER_MAX_CONCURRENT_ACTIVITIES?: number;
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS?: number;
}): VendorWorkerLimits<Vendor> {
  return {
    activitiesPerSecond:
      e.VENDOR_RATE_LIMITS ??
      (parseVendorRateLimits('*:' + DEFAULT_VENDOR_ACTIVITIES_PER_SECOND) as Record<Vendor, number | null>),
    ...(e.WORKER_MAX_CONCURRENT_ACTIVITIES !== undefined
      ? { maxConcurrentActivityTaskExecutions: e.WORKER_MAX_CONCURRENT_ACTIVITIES }
      : {}),
    ...(e.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS !== undefined
      ? { maxConcurrentWorkflowTaskExecutions: e.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS }
      : {}),
  };
}

export const TELEMETRY_ENV = {
  OTEL_EXPORTER_OTLP_ENDPOINT: z
    .string()
    .url()
    .refine((u) => /^https?:\/\//.test(u), 'must start with http:// or https://')
    .optional(),
  OTEL_SERVICE_NAME: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,100}$/, 'must be letters, digits, dots, dashes and underscores')
    .optional(),
};

export function telemetryConfig(e: {
  WORKER_METRICS_PORT?: number;
  WORKER_METRICS_HOST: string;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  OTEL_SERVICE_NAME?: string;
}): TelemetryConfig {
  return {
    workerMetricsAddress:
      e.WORKER_METRICS_PORT !== undefined ? `${e.WORKER_METRICS_HOST}:${e.WORKER_METRICS_PORT}` : null,
    otlpEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT ?? null,
    serviceName: e.OTEL_SERVICE_NAME ?? null,
  };
}
