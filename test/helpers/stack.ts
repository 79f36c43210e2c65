/**
 * The whole service for one test file, on a real Temporal server: the vendor sandboxes, the worker
 * (the production `createWorkers`, on a task-queue prefix of its own so test files running side by
 * side never take each other's tasks) and the API, each on its own free port.
 */
import { Writable } from 'node:stream';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { NativeConnection, Worker, WorkflowBundle } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type AppConfig } from '../../config';
import { FolderEvidenceStore } from '../../activities/evidence-store';
import { buildApi } from '../../client/app';
import { createSandboxServer, type SandboxServer, type SandboxServerOptions } from '../../sandboxes/server';
import { fourthlineWebhookSettings } from '../../sandboxes/fourthline';
import { bundleWorkflows, createWorkers } from '../../workers';
import { currentTracing, tracingWorkerOptions } from '../../observability/tracing';
import { SHARED_BUNDLE_ENV } from './temporal';
import { freePort } from '../../temporal-dev/dev-server';
import { verificationId, type VerificationState } from '../../workflows/shared';
import { vendors as registeredVendors, type Vendors } from '../../config/vendors';
import type { VendorRegistry } from '../../config/vendors/contract';

export const API_KEY = 'test-key-0123456789abcdef';

export interface Stack<R extends VendorRegistry = Vendors> {
  config: AppConfig;
  client: Client;
  sandbox: SandboxServer<R>;
  store: FolderEvidenceStore;
  apiUrl: string;
  sandboxUrl: string;
  /** Calls our API as the integrator's backend would. */
  api(
    method: string,
    urlPath: string,
    body?: unknown,
    opts?: { auth?: string | null; raw?: string },
  ): Promise<{ status: number; body: any }>;
  /** Polls GET /v1/verifications/:id until `until` holds (or fails after `timeoutMs`). */
  waitFor(id: string, until: (s: VerificationState) => boolean, timeoutMs?: number): Promise<VerificationState>;
  /** Stops every worker of this stack (the API and the sandboxes keep running): reads without a worker. */
  stopWorkers(): Promise<void>;
  stop(): Promise<void>;
}

let bundle: Promise<WorkflowBundle> | undefined;
/**
 * The workflow bundle: the one global setup built for the whole run, else one per test file (bundling
 * takes one to several seconds of a core). A file that installed tracing bundles its own (with the
 * tracing interceptors).
 */
export function workflowBundle(): Promise<WorkflowBundle> {
  const shared = sharedBundleFile();
  bundle ??= shared ? fs.promises.readFile(shared, 'utf8').then((code) => ({ code })) : bundleWorkflows();
  return bundle;
}

/**
 * What a test's own Worker (or replay) needs to run the workflow bundle: the bundle, and the sink its
 * always-bundled tracing interceptors export to (tracingWorkerOptions: without it the Worker logs
 * "unregistered external sink" at every activation). Spread into Worker.create or runReplayHistory.
 */
export async function bundleOptions(): Promise<
  { workflowBundle: WorkflowBundle } & ReturnType<typeof tracingWorkerOptions>
> {
  return { workflowBundle: await workflowBundle(), ...tracingWorkerOptions() };
}

/** The file global setup wrote, unless this file installed tracing (its bundle needs the interceptors). */
function sharedBundleFile(): string | undefined {
  const shared = process.env[SHARED_BUNDLE_ENV];
  return shared && !currentTracing() ? shared : undefined;
}

let bundleFile: Promise<string> | undefined;
/** That bundle as a file, for a worker in a process of its own (test/helpers/worker-process.ts). */
export function workflowBundleFile(): Promise<string> {
  const shared = sharedBundleFile();
  bundleFile ??= shared
    ? Promise.resolve(shared)
    : workflowBundle().then((b) => {
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'idv-bundle-')), 'workflows.js');
        fs.writeFileSync(file, b.code);
        return file;
      });
  return bundleFile;
}

export async function startStack<R extends VendorRegistry = Vendors>(opts: {
  address: string;
  connection: NativeConnection;
  client: Client;
  env?: Record<string, string>;
  /** The workflow code (default: workflows/, bundled once per file); the versioning test passes a changed build. */
  workflowBundle?: WorkflowBundle;
  /** Where the API logs go (default: no API logs); the personal-data test captures them. */
  apiLogStream?: NodeJS.WritableStream;
  /**
   * The server has no visibility store (the Java time-skipping server answers list queries UNIMPLEMENTED):
   * Fourthline case webhooks then find their verification through the sandbox's record of the
   * clientReference we gave at create (tests only; the real lookup is tested on the dev server).
   */
  noVisibility?: boolean;
  /** The vendors (default: the registry); a test adds a toy vendor (test/vendor-registry.test.ts). */
  vendors?: R;
}): Promise<Stack<R>> {
  const vendors = opts.vendors ?? (registeredVendors as unknown as R);
  const [apiPort, sandboxPort] = [await freePort(), await freePort()];
  const evidenceDir = fs.mkdtempSync(path.join(os.tmpdir(), 'idv-evidence-'));
  const config = loadConfig(
    {
      TEMPORAL_ADDRESS: opts.address,
      API_PORT: String(apiPort),
      API_KEYS: `tests:${API_KEY}`,
      SANDBOX_PORT: String(sandboxPort),
      EVIDENCE_DIR: evidenceDir,
      AUDIT_DIR: path.join(evidenceDir, 'audit'),
      TASK_QUEUE_PREFIX: `t${crypto.randomBytes(4).toString('hex')}`,
      LOG_LEVEL: 'warn',
      // Tests burst on purpose (100 ID360 creates at once): the production default of 20 activities per second
      // per vendor would stretch them; test/vendor-rate-limits.test.ts sets its own limit.
      VENDOR_RATE_LIMITS: '*:off',
      ...opts.env,
    },
    vendors,
  );

  const sandbox = createSandboxServer<R>(
    {
      publicUrl: config.sandbox.baseUrl,
      finwave: { webhooks: { maxAttempts: 4, firstRetryMs: 200 }, autoPlayDelayMs: 100 },
      id360: { webhooks: { maxAttempts: 4, firstRetryMs: 200 }, processingDelayMs: 100 },
      // Fourthline's webhooks go to this stack's API, authenticated the way the config says.
      fourthline: {
        ...fourthlineWebhookSettings(config.publicBaseUrl, config.vendors.fourthline.webhookAuth),
        webhooks: { maxAttempts: 6, firstRetryMs: 200 },
        processingMs: 200,
        recoverAfterMs: 500,
      },
      // The sandbox's "Customer Dashboard" registers this stack's return receiver.
      authenteq: { redirectUrls: [config.vendors.authenteq.redirectUrl] },
    } satisfies SandboxServerOptions,
    vendors,
  );
  await sandbox.app.listen({ host: '127.0.0.1', port: sandboxPort });

  const store = new FolderEvidenceStore(evidenceDir);
  const workers: Worker[] = await createWorkers({
    connection: opts.connection,
    config,
    store,
    workflowBundle: opts.workflowBundle ?? (await workflowBundle()),
    vendors,
  });
  const running = Promise.all(workers.map((w) => w.run()));

  // Rate limits high enough for the tests' polling (test/no-worker.test.ts tests the limits themselves).
  const app: FastifyInstance = await buildApi({
    config,
    client: opts.client,
    store,
    // Without a stream of the test's own, the API's errors (a 500's "unhandled error" line) still reach
    // the test output, so a failure in CI can be read; nothing else is printed.
    logger: true,
    logStream: opts.apiLogStream ?? errorsToStderr(),
    rateLimits: { perKey: 1_000_000, perAddress: 1_000_000 },
    vendors,
    ...(opts.noVisibility
      ? {
          vendorOptions: {
            fourthline: {
              findCase: async (_client: Client, fourthlineId: string) => {
                const c = (sandbox as SandboxServer).fourthline.cases.get(fourthlineId);
                return c ? verificationId('fourthline', c.clientReference) : null;
              },
            },
          },
        }
      : {}),
  });
  await app.listen({ host: '127.0.0.1', port: apiPort });
  const apiUrl = `http://127.0.0.1:${apiPort}`;

  const api: Stack['api'] = async (method, urlPath, body, o = {}) => {
    const headers: Record<string, string> = {};
    const auth = o.auth === undefined ? API_KEY : o.auth;
    if (auth) headers.authorization = `Bearer ${auth}`;
    if (body !== undefined || o.raw !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${apiUrl}${urlPath}`, {
      method,
      headers,
      body: o.raw ?? (body !== undefined ? JSON.stringify(body) : undefined),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };

  const waitFor: Stack['waitFor'] = async (id, until, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    let last: VerificationState | undefined;
    while (Date.now() < deadline) {
      const res = await api('GET', `/v1/verifications/${encodeURIComponent(id)}`);
      if (res.status === 200) {
        last = res.body;
        if (until(res.body)) return res.body;
      }
      await new Promise((r) => setTimeout(r, 150));
    }
    throw new Error(
      `timed out waiting for ${id}; last state: ${JSON.stringify(last && { status: last.status, outcome: last.outcome, providerStatus: last.providerStatus })}`,
    );
  };

  return {
    config,
    client: opts.client,
    sandbox,
    store,
    apiUrl,
    sandboxUrl: config.sandbox.baseUrl,
    api,
    waitFor,
    async stopWorkers() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await running;
    },
    async stop() {
      await app.close();
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await running;
      await sandbox.close();
      fs.rmSync(evidenceDir, { recursive: true, force: true });
    },
  };
}

/** POSTs to a sandbox control path. */
export async function control(
  stack: Stack,
  urlPath: string,
  body: unknown = {},
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${stack.sandboxUrl}${urlPath}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/** A pino destination that prints only error and fatal lines (pino levels 50, 60) to stderr. */
function errorsToStderr(): NodeJS.WritableStream {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      const line = chunk.toString();
      if (/"level":(50|60)\b/.test(line)) process.stderr.write(line);
      done();
    },
  });
}
