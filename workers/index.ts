/**
 * The worker: one process, ONE workflow Worker on the shared `<prefix>-workflows` queue (one workflow
 * thread, one copy of the bundle, one sticky cache: issue 14), and activity-only Workers, one per vendor
 * activity queue (so one vendor's outage or rate limit never starves another's), one for notifications
 * and one for housekeeping (evidence retention); all share one set of activities and one data converter
 * (encrypted payloads, codec/). The queue layout: config/task-queues.ts.
 */
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { notificationsTaskQueue, taskQueueFor, workflowTaskQueue, type AppConfig } from '../config';
import { vendors as registeredVendors } from '../config/vendors';
import type { VendorRegistry } from '../config/vendors/contract';
import { DEFAULT_VENDOR_ACTIVITIES_PER_SECOND } from '../config/worker';
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
export async function bundleWorkflows(
  workflowsPath = require.resolve('../workflows'),
  opts: { tracing?: boolean } = {},
): Promise<WorkflowBundle> {
  const tracing = opts.tracing ?? currentTracing() !== null;
  return bundleWorkflowCode({
    workflowsPath,
    failureConverterPath: FAILURE_CONVERTER_PATH,
    // Notifications recorded by a verification are handed to its outbox before it closes (workflows/notify-drain.ts).
    // With tracing on (OTEL_EXPORTER_OTLP_ENDPOINT), OpenTelemetry's workflow interceptors too. They change the
    // order of some commands (one vendor flow's cancellation), so switching tracing on or off is a new build (README).
    workflowInterceptorModules: [
      require.resolve('../workflows/notify-drain'),
      ...(tracing ? [WORKFLOW_TRACING_INTERCEPTORS] : []),
    ],
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
  const activities = createActivities({ config, store: opts.store, vendors });
  const converter = dataConverter(opts.keyring ?? resolvePayloadKeyring(config).keyring);
  const { maxConcurrentWorkflowTaskExecutions } = config.vendorWorkers;
  // Every workflow stays on the build that started it (README "Changing workflow code").
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
  const legacy = new Set(await legacyQueuesToPoll(connection, config, vendors));

  // The one workflow Worker: every workflow, no activity (each is scheduled on its kind's queue).
  const workflows = Worker.create({ ...common, taskQueue: workflowTaskQueue(config), ...workflowPart });
  // Activity-only Workers. On a legacy queue (flows started there before the shared workflow queue) also
  // the workflow part, so those flows finish: their activities default to the same queue.
  const vendorWorkers = Object.keys(vendors).map((provider) => {
    const taskQueue = taskQueueFor(config, provider);
    return Worker.create({
      ...common,
      taskQueue,
      activities,
      // Slots and the vendor's quota in activities per second for the whole queue (config/worker.ts).
      ...vendorLimits(config, provider),
      ...(legacy.has(taskQueue) ? workflowPart : {}),
    });
  });
  const housekeeping = Worker.create({
    ...common,
    taskQueue: housekeepingTaskQueue(config),
    activities,
    ...(legacy.has(housekeepingTaskQueue(config)) ? workflowPart : {}),
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
    ...(legacy.has(notificationsTaskQueue(config)) ? workflowPart : {}),
  });
  return Promise.all([workflows, ...vendorWorkers, housekeeping, notifications]);
}

/**
 * The activity task queues: each vendor's, notifications', housekeeping's. They are also the queues
 * workflows were started on before the shared workflow queue (the legacy pollers below).
 */
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

/**
 * WORKER_LEGACY_TASK_QUEUES: `on` all of them; `off` none; `auto` those where the server lists running
 * workflows at start. Under Worker Versioning too: there the old build keeps serving its pinned flows,
 * but the server accepts a new build as current only once it polls every queue the current one polls
 * (README "Changing workflow code"). A server that cannot count (an old one, the Java test server) gets
 * all of them: a flow left without a worker would be worse than the memory.
 */
async function legacyQueuesToPoll(
  connection: NativeConnection,
  config: AppConfig,
  vendors: VendorRegistry,
): Promise<string[]> {
  const queues = activityTaskQueues(config, vendors);
  if (config.legacyTaskQueues === 'on') return queues;
  if (config.legacyTaskQueues === 'off') return [];
  const out: string[] = [];
  for (const queue of queues) {
    try {
      const { count } = await connection.workflowService.countWorkflowExecutions({
        namespace: config.temporal.namespace,
        query: `TaskQueue = '${queue}' AND ExecutionStatus = 'Running'`,
      });
      if (Number(count ?? 0) > 0) out.push(queue);
    } catch (err) {
      console.warn(
        `Worker: cannot count running workflows on ${queue} (${(err as Error).message}): polling its workflow tasks too`,
      );
      out.push(queue);
    }
  }
  // A legacy flow that has no outbox running yet starts one on the queue its memo names, the old
  // notifications queue: poll it whenever any legacy flow runs.
  const notifications = notificationsTaskQueue(config);
  if (out.length && !out.includes(notifications)) out.push(notifications);
  if (out.length)
    console.log(
      `Worker: also polling workflow tasks on ${out.join(', ')} (flows started before the shared workflow queue; WORKER_LEGACY_TASK_QUEUES)`,
    );
  return out;
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
