/**
 * The Temporal SDK's logs as one JSON line per event (the default logger prints a multi-line object per
 * worker state change). Fields are flattened to primitives; errors keep their type and message (our
 * failures carry no personal data in messages: see the failure converter).
 *
 * `shutdownSignals: []`: the launchers own SIGINT/SIGTERM, so that they stop the API, the workers, the
 * sandboxes and the Temporal server in order (the SDK's own handler would only stop the workers).
 */
import { DefaultLogger, Runtime, type LogEntry, type LogLevel } from '@temporalio/worker';
import { VENDOR_CALL_BUCKETS, VENDOR_CALL_HISTOGRAM } from '../observability/vendor-calls';

export function jsonLogLine(entry: LogEntry): string {
  const out: Record<string, unknown> = {
    time: new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString(),
    level: entry.level.toLowerCase(),
    msg: entry.message,
  };
  for (const [k, v] of Object.entries(entry.meta ?? {})) {
    if (v instanceof Error) out[k] = { type: v.name, message: v.message };
    else if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) out[k] = v;
    else if (typeof v === 'bigint') out[k] = v.toString();
    else if (typeof v === 'object')
      out[k] = JSON.parse(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)));
  }
  return JSON.stringify(out);
}

/**
 * The SDK runtime's Prometheus exporter at `bindAddress` (WORKER_METRICS_PORT): the SDK's worker metrics
 * (task slots, poll and schedule-to-start latencies, sticky cache, activity and workflow outcomes) and
 * our vendor-call histogram (observability/vendor-calls.ts), durations in seconds, counters with `_total`.
 */
export function prometheusTelemetry(bindAddress: string) {
  return {
    metrics: {
      prometheus: {
        bindAddress,
        countersTotalSuffix: true,
        useSecondsForDurations: true,
        histogramBucketOverrides: { [VENDOR_CALL_HISTOGRAM]: VENDOR_CALL_BUCKETS },
      },
    },
  };
}

/**
 * What the SDK warns about at every start of a Worker that polls one kind of task only: by design here
 * (config/task-queues.ts: one workflow-only Worker, activity-only Workers), so not worth a warning line.
 */
const BY_DESIGN = new Set([
  'No workflows registered, not polling for workflow tasks',
  'No activities registered, not polling for activity tasks',
]);

/** Installs the SDK Runtime with the JSON logger (and metrics when given); a no-op if a Runtime already exists (tests). */
export function installJsonRuntime(
  level: LogLevel = 'INFO',
  write: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
  metricsBindAddress: string | null = null,
): void {
  try {
    Runtime.install({
      logger: new DefaultLogger(level, (entry) => {
        if (!BY_DESIGN.has(entry.message)) write(jsonLogLine(entry));
      }),
      shutdownSignals: [],
      ...(metricsBindAddress ? { telemetryOptions: prometheusTelemetry(metricsBindAddress) } : {}),
    });
  } catch {
    // already installed
  }
}
