/**
 * `proxyActivities` whose calls go to the activity task queue of their kind (config/task-queues.ts):
 * `<prefix>-<vendor>` for a workflow on the shared `<prefix>-workflows` queue, the workflow's own queue
 * otherwise (a test's single Worker that runs workflows and activities on one queue).
 *
 * The queue is read at each call from workflowInfo() (it cannot be at module load, outside a workflow);
 * it never changes during a workflow's life, so the call is deterministic.
 */
import {
  proxyActivities,
  workflowInfo,
  type ActivityInterfaceFor,
  type ActivityOptions,
  type RetryPolicy,
} from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import { activityTaskQueueOf, type ActivityQueueKind } from '../config/task-queues';

export function activitiesOn<A>(kind: ActivityQueueKind, options: ActivityOptions): ActivityInterfaceFor<A> {
  const proxied = () => {
    const taskQueue = activityTaskQueueOf(workflowInfo().taskQueue, kind);
    return proxyActivities<Record<string, (...args: unknown[]) => Promise<unknown>>>(
      taskQueue ? { ...options, taskQueue } : options,
    );
  };
  return new Proxy({} as ActivityInterfaceFor<A>, {
    get(_, name) {
      if (typeof name !== 'string')
        throw new TypeError(`Only strings are supported for Activity types, got: ${String(name)}`);
      const call = (...args: unknown[]) => proxied()[name]!(...args);
      call.executeWithOptions = (override: ActivityOptions, args: unknown[]) =>
        proxied()[name]!.executeWithOptions(override, args);
      return call;
    },
  });
}

/** How a vendor call is bounded: each attempt, the whole call with its retries, and the retry policy. */
export interface VendorCallBounds {
  /** One attempt (longer than the vendor's own HTTP timeouts). */
  startToClose: Duration;
  /** Every attempt together; omitted when the retry policy alone bounds the call. */
  scheduleToClose?: Duration;
  /** Merged over 1 s, doubling, at most 2 minutes between attempts. */
  retry?: RetryPolicy;
  /** What the Web UI shows for the call. */
  summary?: string;
}

/**
 * Vendor calls heartbeat while they wait for the vendor (callVendor, activities/http.ts): an attempt
 * whose worker died is retried after this long instead of at its start-to-close timeout.
 */
export const VENDOR_HEARTBEAT_TIMEOUT: Duration = '15 seconds';

/** The activity options of a vendor call: its bounds, the shared heartbeat timeout and retry defaults. */
export function vendorCallOptions(b: VendorCallBounds): ActivityOptions {
  return {
    startToCloseTimeout: b.startToClose,
    heartbeatTimeout: VENDOR_HEARTBEAT_TIMEOUT,
    ...(b.scheduleToClose !== undefined ? { scheduleToCloseTimeout: b.scheduleToClose } : {}),
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '2 minutes', ...b.retry },
    ...(b.summary !== undefined ? { summary: b.summary } : {}),
  };
}

/** A vendor's activities on its own queue, with the options of vendorCallOptions. */
export function vendorActivities<A>(kind: ActivityQueueKind, bounds: VendorCallBounds): ActivityInterfaceFor<A> {
  return activitiesOn<A>(kind, vendorCallOptions(bounds));
}
