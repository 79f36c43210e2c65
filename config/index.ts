/**
 * The one configuration module. Everything the processes read from the environment is declared and
 * validated here, once, at start: a missing or malformed setting stops the process with one line
 * that names the variable (and never echoes its value, which may be a secret).
 *
 * Temporal connection settings are Temporal's own: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE and the TOML config file, read by
 * @temporalio/envconfig exactly as the Temporal CLI reads them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { loadClientConnectConfig, type ClientConnectConfig } from '@temporalio/envconfig';
import type { WebhookKey } from './webhook-token';
import { PERSONAL_DATA_ENV, personalDataConfig } from './personal-data';
import { TELEMETRY_ENV, telemetryConfig, vendorWorkerLimits, WORKER_ENV, workerTuning } from './worker';
import { vendors as registeredVendors, PROVIDERS, type VendorConfigs, type VendorName, type Vendors } from './vendors';
import { API_SCOPES, type ApiKey, type ApiScope, type AppConfig as AppConfigOf } from './app-config';
import type { VendorEndpoint, VendorRegistry } from './vendors/contract';
import { httpUrl } from './vendors/env';

// The vendors' settings, labels and parts come from the registry (config/vendors/index.ts).
export type * from './vendors';
export { PROVIDERS };
export type Provider = VendorName;
// The shape of the config (a leaf the layers import their types from): config/app-config.ts.
export { API_SCOPES };
export type { ApiKey, ApiScope, TelemetryConfig, VendorWorkerLimits, WorkerTuning } from './app-config';
/** The config `loadConfig` reads: each registered vendor's config by name. */
export type AppConfig = AppConfigOf<VendorConfigs<Vendors>>;
// The task queues (pure, also read by workflow code): config/task-queues.ts.
export { notificationsTaskQueue, taskQueueFor, workflowTaskQueue } from './task-queues';

const DEV_API_KEY = 'dev-api-key';
const DEV_WEBHOOK_SECRET = 'dev-only-webhook-secret-change-me-in-production';

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`Configuration error: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

const port = z.coerce.number().int().min(1).max(65535);

/** A key given without scopes (`keyId:token`, the form from before tenants) keeps every power it had. */
const LEGACY_SCOPES: ApiScope[] = ['integrator', 'codec'];
const KEY_FORMAT =
  'must be a comma list of keyId:token[:tenant[:scope+scope]] (tokens of 16+ characters; tenant lowercase letters, digits, dashes; scopes integrator, operator-read, codec)';

/**
 * `keyId:token[:tenant[:scope1+scope2]]`, comma-separated: one entry per key. Without a tenant, the
 * key belongs to the tenant `default`; without scopes, it has `integrator+codec` (as before tenants).
 */
export function parseApiKeys(raw: string): ApiKey[] | string {
  const keys: ApiKey[] = [];
  for (const part of raw
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^([A-Za-z0-9_.-]{1,64}):([^\s:,]{16,})(?::([a-z0-9][a-z0-9-]{0,31}))?(?::([a-z+-]+))?$/.exec(part);
    if (!m) return KEY_FORMAT;
    const scopes = m[4] ? m[4].split('+') : LEGACY_SCOPES;
    const unknown = scopes.find((sc) => !(API_SCOPES as readonly string[]).includes(sc));
    if (unknown !== undefined)
      return `has an unknown scope "${unknown}" for key ${m[1]} (known: ${API_SCOPES.join(', ')})`;
    if (keys.some((k) => k.id === m[1])) return `names the key id ${m[1]} twice`;
    keys.push({ id: m[1]!, token: m[2]!, tenant: m[3] ?? 'default', scopes: [...new Set(scopes as ApiScope[])] });
  }
  if (keys.length === 0) return KEY_FORMAT;
  return keys;
}

const apiKeys = z
  .string()
  .min(1)
  .transform((raw, ctx) => {
    const keys = parseApiKeys(raw);
    if (typeof keys === 'string') {
      ctx.addIssue({ code: 'custom', message: keys });
      return z.NEVER;
    }
    return keys;
  });

const envSchema = z.object({
  APP_ENV: z.enum(['development', 'production']).default('development'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /** The shortest pollInterval the API accepts (history grows with every poll). Lower only in development tests. */
  MIN_POLL_INTERVAL_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(60_000),
  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: port.default(8080),
  API_KEYS: apiKeys.optional(),
  /** Requests a minute per API key on /v1, and per source address on /webhooks and /return (429 beyond). */
  API_RATE_LIMIT_PER_KEY: z.coerce.number().int().min(1).max(10_000_000).default(1_200),
  API_RATE_LIMIT_PER_ADDRESS: z.coerce.number().int().min(1).max(10_000_000).default(300),
  PUBLIC_BASE_URL: httpUrl.optional(),
  WEBHOOK_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /** The keyring of webhook/return/OAuth/sealing secrets: `kid:secret,kid2:secret2`, the first signs, all verify. */
  WEBHOOK_KEYS: z
    .string()
    .min(1)
    .transform((raw, ctx) => {
      const keys: WebhookKey[] = [];
      for (const part of raw
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean)) {
        const m = /^([A-Za-z0-9_-]{1,32}):(\S{32,})$/.exec(part);
        if (!m || keys.some((k) => k.id === m[1])) {
          ctx.addIssue({
            code: 'custom',
            message:
              'must be a comma list of keyId:secret (distinct ids of letters, digits, - and _; secrets of 32+ characters), the signing key first',
          });
          return z.NEVER;
        }
        keys.push({ id: m[1]!, secret: m[2]! });
      }
      return keys;
    })
    .optional(),
  EVIDENCE_DIR: z.string().min(1).default('data/evidence'),
  // Payload encryption keys, the codec endpoint, evidence retention, the audit log: config/personal-data.ts.
  ...PERSONAL_DATA_ENV,
  // The workers' workflow cache and sticky queue: config/worker.ts.
  ...WORKER_ENV,
  // Prometheus and OpenTelemetry: config/worker.ts.
  ...TELEMETRY_ENV,
  TASK_QUEUE_PREFIX: z
    .string()
    .regex(/^[a-z0-9-]+$/, 'must be lowercase letters, digits and dashes')
    .default('idv'),
  /** Worker Deployment Versioning (docs/changing-workflow-code.md#worker-deployment-versioning-every-workflow-pinned): both set = on, workflows PINNED to this build. */
  WORKER_DEPLOYMENT_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,100}$/, 'must be letters, digits, dashes and underscores')
    .optional(),
  WORKER_BUILD_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,100}$/, 'must be letters, digits, dots, dashes and underscores')
    .optional(),
  /** Notifications to integrators: delivery slots of the notifications worker, and at most this many per endpoint. */
  NOTIFICATIONS_MAX_CONCURRENT_DELIVERIES: z.coerce.number().int().min(1).max(1000).default(100),
  NOTIFICATIONS_MAX_IN_FLIGHT_PER_ENDPOINT: z.coerce.number().int().min(1).max(1000).default(10),
  SANDBOX_HOST: z.string().min(1).default('127.0.0.1'),
  SANDBOX_PORT: port.default(8090),
  // Each vendor's settings (its base URL, credentials, webhook credentials): its contract's `env`, config/vendors/<vendor>.ts.
});

/** Reads `.env` (if present) into the environment without overriding variables already set. */
export function loadDotEnv(file = path.resolve(process.cwd(), '.env'), env: NodeJS.ProcessEnv = process.env): void {
  if (!fs.existsSync(file)) return;
  const parsed = parseEnv(fs.readFileSync(file, 'utf8'));
  for (const [k, v] of Object.entries(parsed)) if (env[k] === undefined && v !== undefined) env[k] = v;
}

function firstIssue(error: z.ZodError): ConfigError {
  const issue = error.issues[0]!;
  const variable = String(issue.path[0] ?? 'environment');
  const problem = issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message;
  return new ConfigError(
    variable,
    problem.startsWith('must') || problem === 'is required' ? problem : `is invalid: ${problem}`,
  );
}

/** Both or neither: a vendor is either fully configured or served by the sandbox. */
function pair(env: Record<string, string | undefined>, a: string, b: string): boolean {
  const hasA = Boolean(env[a]);
  const hasB = Boolean(env[b]);
  if (hasA !== hasB) throw new ConfigError(hasA ? b : a, `is required when ${hasA ? a : b} is set`);
  return hasA;
}

/** The schema of the environment: ours and each vendor's settings. */
function envSchemaOf(registry: VendorRegistry) {
  return envSchema.extend(Object.assign({}, ...Object.values(registry).map((v) => v.config.env)) as z.ZodRawShape);
}
const registeredEnvSchema = envSchemaOf(registeredVendors);

/** `registry`: the vendors whose settings are read (default: the registry; a test adds a toy vendor). */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  registry: VendorRegistry = registeredVendors,
): AppConfig {
  const schema = registry === registeredVendors ? registeredEnvSchema : envSchemaOf(registry);
  const result = schema.safeParse(env);
  const parsed = result as z.ZodSafeParseResult<z.infer<typeof envSchema>>;
  if (!parsed.success) throw firstIssue(parsed.error);
  const e = parsed.data;
  const prod = e.APP_ENV === 'production';
  const notes: string[] = [];

  if (!e.API_KEYS && prod) throw new ConfigError('API_KEYS', 'is required in production');
  if (!e.WEBHOOK_SECRET && !e.WEBHOOK_KEYS && prod)
    throw new ConfigError('WEBHOOK_KEYS', '(or WEBHOOK_SECRET) is required in production');
  if (!e.PUBLIC_BASE_URL && prod) throw new ConfigError('PUBLIC_BASE_URL', 'is required in production');
  if (!e.API_KEYS) notes.push(`API_KEYS not set: the API accepts the development key "${DEV_API_KEY}"`);

  const sandboxBase = `http://${e.SANDBOX_HOST}:${e.SANDBOX_PORT}`;
  const publicBaseUrl = e.PUBLIC_BASE_URL ?? `http://localhost:${e.API_PORT}`;
  // Each vendor reads its own settings (config/vendors/<vendor>.ts), in registry order.
  const vendorConfigs: Record<string, VendorEndpoint> = {};
  for (const [name, vendor] of Object.entries(registry)) {
    vendorConfigs[name] = vendor.config.load({
      e: result.data as Record<string, never>,
      env,
      prod,
      sandboxBase,
      publicBaseUrl,
      notes,
      pair: (a, b) => pair(env, a, b),
      error: (variable, problem) => new ConfigError(variable, problem),
    });
  }

  // In production a vendor without settings is switched off (the API refuses it with 422), never
  // served by a sandbox; at least one vendor must be configured.
  const unconfigured = Object.entries(vendorConfigs)
    .filter(([, c]) => c.sandbox)
    .map(([p]) => p as Provider);
  const disabledProviders = prod ? unconfigured : [];
  if (prod && disabledProviders.length === Object.keys(registry).length) {
    // Named: the first setting of the first vendor.
    throw new ConfigError(
      Object.keys(Object.values(registry)[0]?.config.env ?? {})[0] ?? 'environment',
      "(or another vendor's settings) is required in production: no vendor is configured",
    );
  }
  if (prod && e.MIN_POLL_INTERVAL_MS < 60_000)
    throw new ConfigError('MIN_POLL_INTERVAL_MS', 'must be at least 60000 in production');
  if (prod) {
    notes.splice(0, notes.length, ...notes.filter((n) => !n.includes('using the local sandbox')));
    for (const p of disabledProviders) notes.push(`${p}: no vendor settings, disabled in production`);
  }

  if (Boolean(e.WORKER_DEPLOYMENT_NAME) !== Boolean(e.WORKER_BUILD_ID)) {
    throw new ConfigError(
      e.WORKER_DEPLOYMENT_NAME ? 'WORKER_BUILD_ID' : 'WORKER_DEPLOYMENT_NAME',
      'must be set together with the other (Worker Deployment Versioning)',
    );
  }
  let temporal: ClientConnectConfig;
  try {
    temporal = loadClientConnectConfig({ overrideEnvVars: env as Record<string, string> });
  } catch (err) {
    throw new ConfigError('TEMPORAL_*', `could not be read: ${(err as Error).message}`);
  }
  const address = temporal.connectionOptions.address ?? 'localhost:7233';
  if (!/^[^\s:]+:\d+$/.test(address)) throw new ConfigError('TEMPORAL_ADDRESS', 'must be host:port');

  return {
    env: e.APP_ENV,
    logLevel: e.LOG_LEVEL,
    api: {
      host: e.API_HOST,
      port: e.API_PORT,
      keys: e.API_KEYS ?? [{ id: 'local', token: DEV_API_KEY, tenant: 'default', scopes: LEGACY_SCOPES }],
      rateLimits: { perKey: e.API_RATE_LIMIT_PER_KEY, perAddress: e.API_RATE_LIMIT_PER_ADDRESS },
    },
    publicBaseUrl,
    webhookSecret: [
      ...(e.WEBHOOK_KEYS ?? []),
      ...(e.WEBHOOK_SECRET || !e.WEBHOOK_KEYS ? [{ id: '', secret: e.WEBHOOK_SECRET ?? DEV_WEBHOOK_SECRET }] : []),
    ],
    evidenceDir: path.resolve(e.EVIDENCE_DIR),
    personalData: personalDataConfig(
      e,
      prod,
      (e.API_KEYS ?? [{ id: 'local' }]).map((k) => k.id),
      (v, p) => new ConfigError(v, p),
      e.API_HOST,
    ),
    taskQueuePrefix: e.TASK_QUEUE_PREFIX,
    workerDeployment:
      e.WORKER_DEPLOYMENT_NAME && e.WORKER_BUILD_ID
        ? { deploymentName: e.WORKER_DEPLOYMENT_NAME, buildId: e.WORKER_BUILD_ID }
        : null,
    notifications: {
      maxConcurrentDeliveries: e.NOTIFICATIONS_MAX_CONCURRENT_DELIVERIES,
      maxInFlightPerEndpoint: e.NOTIFICATIONS_MAX_IN_FLIGHT_PER_ENDPOINT,
    },
    worker: workerTuning(e),
    vendorWorkers: vendorWorkerLimits(e),
    telemetry: telemetryConfig(e),
    temporal: {
      ...temporal,
      connectionOptions: { ...temporal.connectionOptions, address },
      namespace: temporal.namespace ?? 'default',
      address,
    },
    sandbox: {
      host: e.SANDBOX_HOST,
      port: e.SANDBOX_PORT,
      baseUrl: sandboxBase,
      enabled: !prod && unconfigured.length > 0,
    },
    disabledProviders,
    minPollIntervalMs: e.MIN_POLL_INTERVAL_MS,
    vendors: vendorConfigs as VendorConfigs<Vendors>,
    notes,
  };
}

/** For process entry points: load `.env`, validate, and on failure print one line and exit 1. */
export function loadConfigOrExit(): AppConfig {
  try {
    loadDotEnv();
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}
