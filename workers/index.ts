/**
 * The worker: one process, one Temporal Worker per vendor task queue (so one vendor's outage or
 * rate limit never starves another's), all sharing one workflow bundle and one set of activities.
 */
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { PROVIDERS, taskQueueFor, type AppConfig } from '../config';
import { createActivities } from '../activities';
import type { EvidenceStore } from '../activities/evidence-store';

export async function bundleWorkflows(): Promise<WorkflowBundle> {
  return bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: quietBundlerLogger });
}

export async function createWorkers(opts: {
  connection: NativeConnection;
  config: AppConfig;
  store: EvidenceStore;
  workflowBundle: WorkflowBundle;
}): Promise<Worker[]> {
  const activities = createActivities({ config: opts.config, store: opts.store });
  return Promise.all(
    PROVIDERS.map((provider) =>
      Worker.create({
        connection: opts.connection,
        namespace: opts.config.temporal.namespace,
        taskQueue: taskQueueFor(opts.config, provider),
        workflowBundle: opts.workflowBundle,
        activities,
      }),
    ),
  );
}

const quietBundlerLogger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (m: string) => console.warn(m),
  error: (m: string) => console.error(m),
  log: () => undefined,
};
