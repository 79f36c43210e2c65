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
import { SANDBOX_CREDENTIALS } from '../sandboxes/credentials';

export const PROVIDERS = ['finwave'] as const;
export type Provider = (typeof PROVIDERS)[number];

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
const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), 'must start with http:// or https://')
  .transform((u) => u.replace(/\/+$/, ''));

/** `id:token,id2:token2` -> one entry per key; the id is what audit records name, never the token. */
const apiKeys = z
  .string()
  .min(1)
  .transform((raw, ctx) => {
    const keys: { id: string; token: string }[] = [];
    for (const part of raw.split(',').map((p) => p.trim()).filter(Boolean)) {
      const m = /^([A-Za-z0-9_.-]{1,64}):(\S{16,})$/.exec(part);
      if (!m) {
        ctx.addIssue({ code: 'custom', message: 'must be a comma list of keyId:token with tokens of 16+ characters' });
        return z.NEVER;
      }
      keys.push({ id: m[1]!, token: m[2]! });
    }
    return keys;
  });

const envSchema = z.object({
  APP_ENV: z.enum(['development', 'production']).default('development'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: port.default(8080),
  API_KEYS: apiKeys.optional(),
  PUBLIC_BASE_URL: httpUrl.optional(),
  WEBHOOK_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  EVIDENCE_DIR: z.string().min(1).default('data/evidence'),
  TASK_QUEUE_PREFIX: z.string().regex(/^[a-z0-9-]+$/, 'must be lowercase letters, digits and dashes').default('idv'),
  SANDBOX_HOST: z.string().min(1).default('127.0.0.1'),
  SANDBOX_PORT: port.default(8090),
  FINWAVE_BASE_URL: httpUrl.optional(),
  FINWAVE_CLIENT_TOKEN: z.string().min(8).optional(),
});

export interface VendorEndpoint {
  /** Where the vendor API lives. For a sandbox: the local sandbox server. */
  baseUrl: string;
  /** True when this points at the local sandbox (no vendor settings were given). */
  sandbox: boolean;
}

export interface FinwaveConfig extends VendorEndpoint {
  clientToken: string;
}

export interface AppConfig {
  env: 'development' | 'production';
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  api: { host: string; port: number; keys: { id: string; token: string }[] };
  /** The base URL at which vendors and browsers reach our receivers (/webhooks, /return). */
  publicBaseUrl: string;
  webhookSecret: string;
  evidenceDir: string;
  taskQueuePrefix: string;
  temporal: ClientConnectConfig & { namespace: string; address: string };
  sandbox: { host: string; port: number; baseUrl: string; enabled: boolean };
  vendors: { finwave: FinwaveConfig };
  /** Human-readable notes about defaults taken (printed by the launchers, never secrets). */
  notes: string[];
}

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
  return new ConfigError(variable, problem.startsWith('must') || problem === 'is required' ? problem : `is invalid: ${problem}`);
}

/** Both or neither: a vendor is either fully configured or served by the sandbox. */
function pair(env: Record<string, string | undefined>, a: string, b: string): boolean {
  const hasA = Boolean(env[a]);
  const hasB = Boolean(env[b]);
  if (hasA !== hasB) throw new ConfigError(hasA ? b : a, `is required when ${hasA ? a : b} is set`);
  return hasA;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) throw firstIssue(parsed.error);
  const e = parsed.data;
  const prod = e.APP_ENV === 'production';
  const notes: string[] = [];

  if (!e.API_KEYS && prod) throw new ConfigError('API_KEYS', 'is required in production');
  if (!e.WEBHOOK_SECRET && prod) throw new ConfigError('WEBHOOK_SECRET', 'is required in production');
  if (!e.PUBLIC_BASE_URL && prod) throw new ConfigError('PUBLIC_BASE_URL', 'is required in production');
  if (!e.API_KEYS) notes.push(`API_KEYS not set: the API accepts the development key "${DEV_API_KEY}"`);

  const sandboxBase = `http://${e.SANDBOX_HOST}:${e.SANDBOX_PORT}`;
  const finwaveReal = pair(env, 'FINWAVE_BASE_URL', 'FINWAVE_CLIENT_TOKEN');
  if (!finwaveReal && prod) throw new ConfigError('FINWAVE_BASE_URL', 'is required in production (the sandbox is for development)');
  if (!finwaveReal) notes.push(`Finwave: no vendor settings, using the local sandbox at ${sandboxBase}/finwave`);

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
    api: { host: e.API_HOST, port: e.API_PORT, keys: e.API_KEYS ?? [{ id: 'local', token: DEV_API_KEY }] },
    publicBaseUrl: e.PUBLIC_BASE_URL ?? `http://localhost:${e.API_PORT}`,
    webhookSecret: e.WEBHOOK_SECRET ?? DEV_WEBHOOK_SECRET,
    evidenceDir: path.resolve(e.EVIDENCE_DIR),
    taskQueuePrefix: e.TASK_QUEUE_PREFIX,
    temporal: {
      ...temporal,
      connectionOptions: { ...temporal.connectionOptions, address },
      namespace: temporal.namespace ?? 'default',
      address,
    },
    sandbox: { host: e.SANDBOX_HOST, port: e.SANDBOX_PORT, baseUrl: sandboxBase, enabled: !finwaveReal },
    vendors: {
      finwave: finwaveReal
        ? { baseUrl: e.FINWAVE_BASE_URL!, clientToken: e.FINWAVE_CLIENT_TOKEN!, sandbox: false }
        : { baseUrl: `${sandboxBase}/finwave/management`, clientToken: SANDBOX_CREDENTIALS.finwave.clientToken, sandbox: true },
    },
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

export function taskQueueFor(config: Pick<AppConfig, 'taskQueuePrefix'>, provider: Provider): string {
  return `${config.taskQueuePrefix}-${provider}`;
}
