/**
 * The worker: one process, one Temporal Worker per vendor task queue (so one vendor's outage or
 * rate limit never starves another's) plus one for housekeeping (evidence retention), all sharing
 * one workflow bundle, one set of activities and one data converter (encrypted payloads, codec/).
 */
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { PROVIDERS, taskQueueFor, type AppConfig } from '../config';
import { housekeepingTaskQueue } from '../config/personal-data';
import { createActivities } from '../activities';
import type { EvidenceStore } from '../activities/evidence-store';
import { dataConverter, FAILURE_CONVERTER_PATH, resolvePayloadKeyring, type PayloadKeyring } from '../codec';

/** The workflow code, with the failure converter that encodes failure messages (codec/failure-converter.ts). */
export async function bundleWorkflows(): Promise<WorkflowBundle> {
  return bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), failureConverterPath: FAILURE_CONVERTER_PATH, logger: quietBundlerLogger });
}

export async function createWorkers(opts: {
  connection: NativeConnection;
  config: AppConfig;
  store: EvidenceStore;
  workflowBundle: WorkflowBundle;
  /** The payload keys; by default the configured ones (or, in development, the local key). */
  keyring?: PayloadKeyring;
}): Promise<Worker[]> {
  const activities = createActivities({ config: opts.config, store: opts.store });
  const converter = dataConverter(opts.keyring ?? resolvePayloadKeyring(opts.config).keyring);
  const taskQueues = [...PROVIDERS.map((provider) => taskQueueFor(opts.config, provider)), housekeepingTaskQueue(opts.config)];
  return Promise.all(
    taskQueues.map((taskQueue) =>
      Worker.create({
        connection: opts.connection,
        namespace: opts.config.temporal.namespace,
        taskQueue,
        workflowBundle: opts.workflowBundle,
        activities,
        dataConverter: converter,
        // WORKER_MAX_CACHED_WORKFLOWS / WORKER_STICKY_QUEUE_TIMEOUT (config/worker.ts); absent: the SDK's defaults.
        ...opts.config.worker,
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
