/**
 * Every vendor HTTP call (activities/http.ts `callVendor`) is measured here:
 *
 * - a histogram `vendor_call_duration_seconds{vendor,operation,outcome}` on the activity's metric meter,
 *   so the worker's Prometheus endpoint (the SDK runtime's, WORKER_METRICS_PORT) serves it next to the
 *   SDK's own metrics, with the SDK's bounded tags (namespace, task_queue, activity_type). Its `_count`
 *   is the call count per outcome. Labels are fixed names: never an id, a URL or personal data;
 * - a client span `<vendor> <operation>` with the W3C `traceparent` header when tracing is on
 *   (observability/tracing.ts).
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure, type MetricHistogram, type MetricMeter } from '@temporalio/common';
import { withVendorSpan } from './tracing';

export const VENDOR_CALL_HISTOGRAM = 'vendor_call_duration_seconds';
/** Seconds; vendor calls take tens of ms to tens of seconds (their timeout is cut to the attempt). */
export const VENDOR_CALL_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Outcomes, one per failure kind of activities/http.ts (plus `ok` and `cancelled`). */
export type VendorCallOutcome =
  'ok' | 'rejected' | 'rate_limited' | 'unavailable' | 'invalid_response' | 'cancelled' | 'error';

const OUTCOME_BY_TYPE: Record<string, VendorCallOutcome> = {
  VendorRequestRejected: 'rejected',
  VendorRateLimited: 'rate_limited',
  VendorUnavailable: 'unavailable',
  VendorResponseInvalid: 'invalid_response',
};

export function outcomeOf(err: unknown): VendorCallOutcome {
  if (err instanceof CancelledFailure) return 'cancelled';
  if (err instanceof ApplicationFailure) return OUTCOME_BY_TYPE[err.type ?? ''] ?? 'error';
  return 'error';
}

const histograms = new WeakMap<MetricMeter, MetricHistogram>();
function histogramOf(meter: MetricMeter): MetricHistogram {
  let h = histograms.get(meter);
  if (!h) {
    h = meter.createHistogram(
      VENDOR_CALL_HISTOGRAM,
      'float',
      's',
      'Vendor HTTP call latency by vendor, operation and outcome',
    );
    histograms.set(meter, h);
  }
  return h;
}

function activityMeter(): MetricMeter | null {
  try {
    return Context.current().metricMeter;
  } catch {
    return null; // outside an activity (tests of pure code)
  }
}

export async function observeVendorCall<T extends { status: number }>(
  req: { vendor: string; operation: string; method: string },
  send: (traceHeaders: Record<string, string>) => Promise<T>,
): Promise<T> {
  const started = process.hrtime.bigint();
  const meter = activityMeter();
  let outcome: VendorCallOutcome = 'ok';
  try {
    return await withVendorSpan(req, send, (r) => r.status);
  } catch (err) {
    outcome = outcomeOf(err);
    throw err;
  } finally {
    if (meter) {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      histogramOf(meter).record(seconds, { vendor: req.vendor, operation: req.operation, outcome });
    }
  }
}
