/**
 * The worker: one process, ONE workflow Worker on the shared `<prefix>-workflows` queue (one workflow
 * thread, one copy of the bundle, one sticky cache), and activity-only Workers, one per vendor
 * activity queue (so one vendor's outage or rate limit never starves another's), one for notifications
 * and one for housekeeping (evidence retention); all share one set of activities and one data converter
 * (encrypted payloads, codec/). The queue layout: config/task-queues.ts.
 */
import { bundleWorkflowCode, type NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { notificationsTaskQueue, taskQueueFor, workflowTaskQueue, type AppConfig } from '../config';
import { vendors as registeredVendors } from '../config/vendors';
import type { VendorRegistry } from '../config/vendors/contract';
import { DEFAULT_VENDOR_ACTIVITIES_PER_SECOND, workerVersioningError } from '../config/worker';
import { createNotificationActivities } from '../activities/notifications';
import { housekeepingTaskQueue } from '../config/personal-data';
import { createActivities } from '../activities';
import { tracingWorkerOptions, WORKFLOW_TRACING_INTERCEPTORS } from '../observability/tracing';
import type { EvidenceStore } from '../activities/evidence-store';
import { dataConverter, FAILURE_CONVERTER_PATH, resolvePayloadKeyring, type PayloadKeyring } from '../codec';

/**
 * The workflow code, with the failure converter that encodes failure messages (codec/failure-converter.ts).
 * The same whatever the environment. `workflowsPath` is for tests (a changed build in the versioning test).
 */
export async function bundleWorkflows(workflowsPath = require.resolve('../workflows')): Promise<WorkflowBundle> {
  return bundleWorkflowCode({
    workflowsPath,
    failureConverterPath: FAILURE_CONVERTER_PATH,
    // Notifications recorded by a verification are handed to its outbox before it closes (workflows/notify-drain.ts).
    // OpenTelemetry's workflow interceptors always, tracing on or off (OTEL_EXPORTER_OTLP_ENDPOINT): they change
    // the order of some commands (a vendor flow's cancellation), so bundling them only with tracing on would make
    // the setting a change of workflow code. Off, their spans go to a sink that drops them (tracingWorkerOptions).
    workflowInterceptorModules: [require.resolve('../workflows/notify-drain'), WORKFLOW_TRACING_INTERCEPTORS],
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
  /** The vendors served, an activity Worker each (default: the registry, config/vendors/index.ts). */
  vendors?: VendorRegistry;
}): Promise<Worker[]> {
  const { config, connection, vendors = registeredVendors } = opts;
  const refused = workerVersioningError(config);
  if (refused) throw new Error(refused);
  const activities = createActivities({ config, store: opts.store, vendors });
  const converter = dataConverter(opts.keyring ?? resolvePayloadKeyring(config).keyring);
  const { maxConcurrentWorkflowTaskExecutions } = config.vendorWorkers;
  // Every verification stays on the build that started it (PINNED, the default here); the workflows that never
  // end (the endpoint registry: workflows/webhook-endpoints.ts) are AUTO_UPGRADE per type, so an old build
  // drains. Required in production (config/worker.ts workerVersioningError).
  const versioning = config.workerDeployment
    ? {
        workerDeploymentOptions: {
          useWorkerVersioning: true as const,
          version: config.workerDeployment,
          defaultVersioningBehavior: 'PINNED' as const,
        },
      }
    : {};
  const common = {
    connection,
    namespace: config.temporal.namespace,
    dataConverter: converter,
    ...tracingWorkerOptions(),
    ...versioning,
  };
  // What makes a Worker poll workflow tasks: the bundle, and the cache / sticky queue tuning (config/worker.ts).
  const workflowPart = {
    workflowBundle: opts.workflowBundle,
    ...config.worker,
    ...(maxConcurrentWorkflowTaskExecutions !== undefined ? { maxConcurrentWorkflowTaskExecutions } : {}),
  };

  // The one workflow Worker: every workflow, no activity (each is scheduled on its kind's queue).
  const workflows = Worker.create({ ...common, taskQueue: workflowTaskQueue(config), ...workflowPart });
  // Activity-only Workers, one per vendor.
  const vendorWorkers = Object.keys(vendors).map((provider) => {
    const taskQueue = taskQueueFor(config, provider);
    return Worker.create({
      ...common,
      taskQueue,
      activities,
      // Slots and the vendor's quota in activities per second for the whole queue (config/worker.ts).
      ...vendorLimits(config, provider),
    });
  });
  const housekeeping = Worker.create({
    ...common,
    taskQueue: housekeepingTaskQueue(config),
    activities,
  });
  // Notifications to integrators: their own queue and activities (README "Notifications to your backend").
  // Deliveries are I/O waits, so many slots; a slow endpoint holds at most its per-endpoint share of them.
  const notifications = Worker.create({
    ...common,
    taskQueue: notificationsTaskQueue(config),
    activities: createNotificationActivities({
      production: config.env === 'production',
      maxInFlightPerEndpoint: config.notifications.maxInFlightPerEndpoint,
    }),
    maxConcurrentActivityTaskExecutions: config.notifications.maxConcurrentDeliveries,
  });
  return Promise.all([workflows, ...vendorWorkers, housekeeping, notifications]);
}

/** The activity task queues: each vendor's, notifications', housekeeping's. */
export function activityTaskQueues(
  config: Pick<AppConfig, 'taskQueuePrefix'>,
  vendors: VendorRegistry = registeredVendors,
): string[] {
  return [
    ...Object.keys(vendors).map((p) => taskQueueFor(config, p)),
    notificationsTaskQueue(config),
    housekeepingTaskQueue(config),
  ];
}

function vendorLimits(config: AppConfig, provider: string) {
  const { activitiesPerSecond, maxConcurrentActivityTaskExecutions } = config.vendorWorkers;
  // A vendor VENDOR_RATE_LIMITS cannot name (a test's toy vendor, outside the registry): the default.
  const rates = activitiesPerSecond as Record<string, number | null>;
  const rate = provider in rates ? (rates[provider] ?? null) : DEFAULT_VENDOR_ACTIVITIES_PER_SECOND;
  return {
    ...(maxConcurrentActivityTaskExecutions !== undefined ? { maxConcurrentActivityTaskExecutions } : {}),
    ...(rate !== null ? { maxTaskQueueActivitiesPerSecond: rate } : {}),
  };
}

const quietBundlerLogger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (m: string) => console.warn(m),
  error: (m: string) => console.error(m),
  log: () => undefined,
};
