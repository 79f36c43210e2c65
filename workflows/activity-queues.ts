/**
 * `proxyActivities` whose calls go to the activity task queue of their kind (config/task-queues.ts):
 * `<prefix>-<vendor>` for a workflow on the shared `<prefix>-workflows` queue, the workflow's own queue
 * otherwise (a flow started on a per-vendor queue before the shared one, a test's single Worker).
 *
 * The queue is read at each call from workflowInfo() (it cannot be at module load, outside a workflow);
 * it never changes during a workflow's life, so the call is deterministic. An activity's task queue is
 * a command attribute replay does not compare, so histories recorded on the per-vendor queues replay.
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
