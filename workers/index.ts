/**
 * The worker: one process, one Temporal Worker per vendor task queue (so one vendor's outage or
 * rate limit never starves another's) plus one for housekeeping (evidence retention), all sharing
 * one workflow bundle, one set of activities and one data converter (encrypted payloads, codec/).
 */
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { notificationsTaskQueue, PROVIDERS, taskQueueFor, type AppConfig, type Provider } from '../config';
import { createNotificationActivities } from '../activities/notifications';
import { housekeepingTaskQueue } from '../config/personal-data';
import { createActivities } from '../activities';
import { currentTracing, tracingWorkerOptions, WORKFLOW_TRACING_INTERCEPTORS } from '../observability/tracing';
import type { EvidenceStore } from '../activities/evidence-store';
import { dataConverter, FAILURE_CONVERTER_PATH, resolvePayloadKeyring, type PayloadKeyring } from '../codec';

/**
 * The workflow code, with the failure converter that encodes failure messages (codec/failure-converter.ts).
 * `workflowsPath` is for tests (a changed build in the versioning test).
 */
export async function bundleWorkflows(workflowsPath = require.resolve('../workflows'), opts: { tracing?: boolean } = {}): Promise<WorkflowBundle> {
  const tracing = opts.tracing ?? currentTracing() !== null;
  return bundleWorkflowCode({
    workflowsPath,
    failureConverterPath: FAILURE_CONVERTER_PATH,
    // Notifications recorded by a verification are handed to its outbox before it closes (workflows/notify-drain.ts).
    // With tracing on (OTEL_EXPORTER_OTLP_ENDPOINT), OpenTelemetry's workflow interceptors too. They change the
    // order of some commands (an ID360 cancellation's), so switching tracing on or off is a new build (README).
    workflowInterceptorModules: [require.resolve('../workflows/notify-drain'), ...(tracing ? [WORKFLOW_TRACING_INTERCEPTORS] : [])],
    logger: quietBundlerLogger,
  });
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
  // Every workflow stays on the build that started it (README "Changing workflow code").
  const versioning = opts.config.workerDeployment
    ? { workerDeploymentOptions: { useWorkerVersioning: true as const, version: opts.config.workerDeployment, defaultVersioningBehavior: 'PINNED' as const } }
    : {};
  const vendorWorkers = taskQueues.map((taskQueue, i) =>
    Worker.create({
      // Slots and the vendor's quota in activities per second for the whole queue (config/worker.ts).
      ...vendorLimits(opts.config, PROVIDERS[i]),
      connection: opts.connection,
      namespace: opts.config.temporal.namespace,
      taskQueue,
      workflowBundle: opts.workflowBundle,
      activities,
      dataConverter: converter,
      ...tracingWorkerOptions(),
      // WORKER_MAX_CACHED_WORKFLOWS / WORKER_STICKY_QUEUE_TIMEOUT (config/worker.ts); absent: the SDK's defaults.
      ...opts.config.worker,
      ...versioning,
    }),
  );
  // Notifications to integrators: their own queue and activities (README "Notifications to your backend").
  // Deliveries are I/O waits, so many slots; a slow endpoint holds at most its per-endpoint share of them.
  const notifications = Worker.create({
    connection: opts.connection,
    namespace: opts.config.temporal.namespace,
    taskQueue: notificationsTaskQueue(opts.config),
    workflowBundle: opts.workflowBundle,
    activities: createNotificationActivities({
      production: opts.config.env === 'production',
      maxInFlightPerEndpoint: opts.config.notifications.maxInFlightPerEndpoint,
    }),
    maxConcurrentActivityTaskExecutions: opts.config.notifications.maxConcurrentDeliveries,
    dataConverter: converter,
    ...tracingWorkerOptions(),
    ...opts.config.worker,
    ...versioning,
  });
  return Promise.all([...vendorWorkers, notifications]);
}

function vendorLimits(config: AppConfig, provider: Provider | undefined) {
  if (!provider) return {}; // housekeeping
  const { activitiesPerSecond, ...slots } = config.vendorWorkers;
  const rate = activitiesPerSecond[provider];
  return { ...slots, ...(rate !== null ? { maxTaskQueueActivitiesPerSecond: rate } : {}) };
}

const quietBundlerLogger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (m: string) => console.warn(m),
  error: (m: string) => console.error(m),
  log: () => undefined,
};
