/**
 * `proxyActivities` whose calls go to the activity task queue of their kind (config/task-queues.ts):
 * `<prefix>-<vendor>` for a workflow on the shared `<prefix>-workflows` queue, the workflow's own queue
 * otherwise (a test's single Worker that runs workflows and activities on one queue).
 *
 * The queue is read at each call from workflowInfo() (it cannot be at module load, outside a workflow);
 * it never changes during a workflow's life, so the call is deterministic.
 */
import { proxyActivities, workflowInfo, type ActivityInterfaceFor, type ActivityOptions } from '@temporalio/workflow';
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
