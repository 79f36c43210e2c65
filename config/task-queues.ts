/**
 * The task-queue layout, pure so the workflow bundle can import it:
 *
 * - ONE workflow task queue, `<prefix>-workflows`: every workflow (the vendors' flows, their children,
 *   the notification outboxes, evidence retention) runs there, in ONE Worker per worker process (one
 *   workflow thread, one copy of the bundle, one sticky cache).
 * - one ACTIVITY task queue per vendor, `<prefix>-<vendor>`, plus `<prefix>-notifications` and
 *   `<prefix>-housekeeping`, each served by an activity-only Worker: a vendor's outage fills only its
 *   own queue, and its rate limit (`maxTaskQueueActivitiesPerSecond`) is enforced per vendor.
 *
 * A workflow on the shared queue schedules its activities on `<prefix>-<kind>`, derived from its own
 * queue's name (workflows/activity-queues.ts). A workflow on any other queue keeps its activities on
 * its own queue: that is what a flow started before this layout does (its queue, `<prefix>-<vendor>`,
 * is the same name as that vendor's activity queue now), and what tests with one Worker of their own do.
 */

export const WORKFLOWS_QUEUE_SUFFIX = '-workflows';

/** A vendor's name (config/vendors/index.ts), or a queue of our own. */
export type ActivityQueueKind = string;

/** The one workflow task queue of a deployment. */
export function workflowTaskQueueOf(taskQueuePrefix: string): string {
  return `${taskQueuePrefix}${WORKFLOWS_QUEUE_SUFFIX}`;
}

/**
 * The task queue for `kind`'s activities of a workflow running on `workflowQueue`: `<prefix>-<kind>` on
 * the shared queue; undefined (its own queue) on any other.
 */
export function activityTaskQueueOf(workflowQueue: string, kind: ActivityQueueKind): string | undefined {
  if (!workflowQueue.endsWith(WORKFLOWS_QUEUE_SUFFIX) || workflowQueue.length === WORKFLOWS_QUEUE_SUFFIX.length)
    return undefined;
  return `${workflowQueue.slice(0, -WORKFLOWS_QUEUE_SUFFIX.length)}-${kind}`;
}

/**
 * The one workflow task queue: every workflow is started there, the vendors' flows, the notification
 * outboxes, the endpoint registries and evidence retention.
 */
export function workflowTaskQueue(config: { taskQueuePrefix: string }): string {
  return workflowTaskQueueOf(config.taskQueuePrefix);
}

/**
 * The ACTIVITY task queue of deliveries to integrators' endpoints: their own, so a slow endpoint never
 * holds back verification work. (Before the shared workflow queue, the outboxes' workflow queue too.)
 */
export function notificationsTaskQueue(config: { taskQueuePrefix: string }): string {
  return `${config.taskQueuePrefix}-notifications`;
}

/**
 * A vendor's ACTIVITY task queue, `<prefix>-<vendor>`: its outage or rate limit holds back only its own
 * calls. (Before the shared workflow queue, the vendor's workflow queue too: flows started then still run there.)
 */
export function taskQueueFor(config: { taskQueuePrefix: string }, provider: string): string {
  return `${config.taskQueuePrefix}-${provider}`;
}
