/**
 * The shape of the loaded configuration, a leaf: every layer (activities, API, codec, workers) takes its
 * types from here, and config/index.ts, which reads the environment and imports the vendor registry to
 * read each vendor's settings, builds it. Importing config/index.ts instead, even for a type, would close
 * a cycle through the registry, which imports every vendor's code.
 */
import type { ClientConnectConfig } from '@temporalio/envconfig';
import type { WebhookKey } from './webhook-token';
import type { PersonalDataConfig } from './personal-data';
import type { VendorEndpoint } from './vendors/contract';

/** What an API key may do: act as an integrator (read and act), read only (operators), decode payloads (the Web UI's codec). */
export const API_SCOPES = ['integrator', 'operator-read', 'codec'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

export interface ApiKey {
  /** What audit records name, never the token. */
  id: string;
  token: string;
  /** Verification ids are per tenant: a key never sees another tenant's verifications. */
  tenant: string;
  scopes: ApiScope[];
}

/** The vendors' names in a config's `vendors` (any string below the registry). */
export type VendorNameOf<Vendors> = Extract<keyof Vendors, string>;

export interface WorkerTuning {
  maxCachedWorkflows?: number;
  stickyQueueScheduleToStartTimeout?: `${number}${'ms' | 's' | 'm'}`;
}

export interface VendorWorkerLimits<Vendor extends string = string> {
  /** Activities per second on each vendor's task queue (null: no limit). */
  activitiesPerSecond: Record<Vendor, number | null>;
  maxConcurrentActivityTaskExecutions?: number;
  maxConcurrentWorkflowTaskExecutions?: number;
}

/** Observability settings shared by the worker and the API. */
export interface TelemetryConfig {
  /** The worker's Prometheus bind address (`host:port`), or null (off). */
  workerMetricsAddress: string | null;
  /** OTLP/HTTP traces endpoint (OTEL_EXPORTER_OTLP_ENDPOINT, the OpenTelemetry standard variable), or null: tracing off. */
  otlpEndpoint: string | null;
  serviceName: string | null;
}

/**
 * The loaded configuration (config/index.ts `loadConfig`). `Vendors`: each vendor's config by name; below
 * the registry it is any vendor's `VendorEndpoint`, and each vendor's code reads its own through its own
 * config type (config/vendors/<vendor>-config.ts). config/index.ts exports it with the registry's vendors.
 */
export interface AppConfig<Vendors extends Record<string, VendorEndpoint> = Record<string, VendorEndpoint>> {
  env: 'development' | 'production';
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  api: { host: string; port: number; keys: ApiKey[]; rateLimits: { perKey: number; perAddress: number } };
  /** The base URL at which vendors and browsers reach our receivers (/webhooks, /return). */
  publicBaseUrl: string;
  /**
   * The webhook keyring (config/webhook-token.ts): WEBHOOK_KEYS, first key signing, then WEBHOOK_SECRET
   * (if also set) as a verify-only key without id, so that tokens from before the keyring still pass.
   */
  webhookSecret: readonly WebhookKey[];
  evidenceDir: string;
  /** Encryption of workflow payloads, the codec endpoint, evidence retention, the audit log. */
  personalData: PersonalDataConfig;
  taskQueuePrefix: string;
  /** Worker Deployment Versioning, off (null) unless WORKER_DEPLOYMENT_NAME and WORKER_BUILD_ID are set. */
  workerDeployment: { deploymentName: string; buildId: string } | null;
  /** Notifications to integrators (docs/notifications.md). */
  notifications: { maxConcurrentDeliveries: number; maxInFlightPerEndpoint: number };
  /** Workflow cache and sticky queue of each Worker (unset: the SDK's defaults). */
  worker: WorkerTuning;
  /** Per-vendor rate limits and slots of the vendor Workers (config/worker.ts). */
  vendorWorkers: VendorWorkerLimits<VendorNameOf<Vendors>>;
  /** Worker metrics endpoint, OTLP traces (config/worker.ts). */
  telemetry: TelemetryConfig;
  temporal: ClientConnectConfig & { namespace: string; address: string };
  sandbox: { host: string; port: number; baseUrl: string; enabled: boolean };
  /** Each vendor's config, read by its contract (config/vendors/<vendor>.ts); a test registry adds its own. */
  vendors: Vendors;
  /** Human-readable notes about defaults taken (printed by the launchers, never secrets). */
  notes: string[];
  /** Production only: vendors without settings, refused by the API. Empty in development (sandboxes). */
  disabledProviders: VendorNameOf<Vendors>[];
  /** The shortest pollInterval the API accepts, in ms (1 minute; lower only in development tests). */
  minPollIntervalMs: number;
}
