/**
 * `npm start`: the whole service on one machine, in one process tree.
 *
 *   1. validates the configuration (one clear line and exit 1 if anything is wrong);
 *   2. starts the local Temporal dev server with the Web UI (building the CLI on first run), unless
 *      TEMPORAL_ADDRESS / a Temporal profile points at another cluster or Temporal Cloud;
 *   3. starts the vendor sandboxes when any vendor has no settings of its own;
 *   4. runs the worker (one per vendor task queue, one for housekeeping) and the API, with payloads
 *      encrypted (PAYLOAD_KEYS, or a development key generated once into data/), the Web UI pointed
 *      at the API's codec endpoint, and the daily evidence-retention Schedule.
 * SIGINT (Ctrl-C) or SIGTERM stops everything in reverse order: the API, the workers, the sandboxes
 * (their state saved into data/, restored on the next start), the Temporal dev server; within 10 s.
 */
import { NativeConnection } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import { loadConfigOrExit, workflowTaskQueue } from '../config';
import { FolderEvidenceStore } from '../activities/evidence-store';
import { buildApi } from '../client/app';
import { createSandboxServer } from '../sandboxes/server';
import { fourthlineWebhookSettings } from '../sandboxes/fourthline';
import { activityTaskQueues, bundleWorkflows, createWorkers } from '../workers';
import { runLocalTemporal } from './server';
import { listenCodecTls } from '../client/codec';
import { ensureRetentionSchedule } from '../client/retention-schedule';
import { dataConverter, describeKeyring, resolvePayloadKeyring } from '../codec';
import path from 'node:path';
import { persistSandboxes } from '../sandboxes/persistence';
import { installJsonRuntime } from '../workers/logging';
import { installTracing, tracingClientInterceptors } from '../observability/tracing';

/** The local dev server's address: 127.0.0.1 or localhost on TEMPORAL_DEV_PORT (default 7233). */
const LOCAL = new RegExp(`^(localhost|127\\.0\\.0\\.1):${Number(process.env.TEMPORAL_DEV_PORT ?? 7233)}$`);
/** Past this, whatever has not stopped is killed (the Temporal dev server included). */
const STOP_DEADLINE_MS = 9000;

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const stops: (() => Promise<unknown>)[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => {
      // process.exit kills the Temporal dev server too (dev-server.ts kills its child on exit).
      console.error(JSON.stringify({ level: 'error', msg: 'stop deadline passed: killing what is left' }));
      process.exit(code || 1);
    }, STOP_DEADLINE_MS).unref();
    for (const stop of stops.reverse())
      await stop().catch((err) => console.error(`while stopping: ${(err as Error).message}`));
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  try {
    // WORKER_METRICS_PORT and OTEL_EXPORTER_OTLP_ENDPOINT as for `npm run worker` / `npm run api` (docs/operations.md,
    // metrics and traces): one process here, so one Prometheus endpoint and one traced service.
    installJsonRuntime(
      config.logLevel === 'debug'
        ? 'DEBUG'
        : config.logLevel === 'warn'
          ? 'WARN'
          : config.logLevel === 'error'
            ? 'ERROR'
            : 'INFO',
      undefined,
      config.telemetry.workerMetricsAddress,
    );
    const tracing = installTracing({
      serviceName: config.telemetry.serviceName ?? 'idv-service',
      otlpEndpoint: config.telemetry.otlpEndpoint,
    });
    if (tracing) stops.push(() => tracing.shutdown()); // stopped last: flushes the last spans
    const keys = resolvePayloadKeyring(config);
    console.log(describeKeyring(keys));
    const tls = config.personalData.codec.tls;
    // The Web UI calls the codec from the browser; it passes a token only to an https:// endpoint.
    const codecEndpoint = tls ? `https://localhost:${tls.port}/codec` : `http://localhost:${config.api.port}/codec`;
    const useLocal =
      LOCAL.test(config.temporal.address) &&
      !config.temporal.connectionOptions.apiKey &&
      process.env.LOCAL_TEMPORAL !== 'off';
    if (useLocal) {
      const server = await runLocalTemporal({
        detached: true,
        log: (line) => process.stderr.write(`[temporal] ${line}\n`),
        extraArgs: ['--ui-codec-endpoint', codecEndpoint],
      });
      stops.push(() => server.stop());
    } else {
      console.log(`Temporal: ${config.temporal.address}, namespace ${config.temporal.namespace}`);
    }

    if (config.sandbox.enabled) {
      // Fourthline's webhooks and Authenteq's registered redirect go to this API (PUBLIC_BASE_URL, API_PORT),
      // not to the sandbox's default of localhost:8080.
      const sandbox = createSandboxServer({
        publicUrl: config.sandbox.baseUrl,
        authenteq: { redirectUrls: [config.vendors.authenteq.redirectUrl] },
        fourthline: fourthlineWebhookSettings(config.publicBaseUrl, config.vendors.fourthline.webhookAuth),
      });
      // Temporal's history outlives a restart: so do the vendor cases it waits for.
      const persisted = persistSandboxes(
        sandbox,
        path.resolve(process.env.SANDBOX_STATE_FILE ?? 'data/sandboxes/state.json'),
      );
      await sandbox.app.listen({ host: config.sandbox.host, port: config.sandbox.port });
      stops.push(async () => {
        await sandbox.close();
        persisted.stop();
      });
      console.log(
        `Vendor sandboxes: ${config.sandbox.baseUrl} (controls: sandboxes/README.md; ${persisted.restored} record(s) restored)`,
      );
    }

    const store = new FolderEvidenceStore(config.evidenceDir);
    const workerConnection = await NativeConnection.connect(config.temporal.connectionOptions);
    const workers = await createWorkers({
      connection: workerConnection,
      config,
      store,
      workflowBundle: await bundleWorkflows(),
      keyring: keys.keyring,
    });
    const running = Promise.all(workers.map((w) => w.run()));
    stops.push(async () => {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await running;
      await workerConnection.close();
    });
    console.log(
      `Worker: workflows on ${workflowTaskQueue(config)}, activities on ${activityTaskQueues(config).join(', ')}`,
    );

    const connection = await Connection.connect(config.temporal.connectionOptions);
    const client = new Client({
      connection,
      namespace: config.temporal.namespace,
      dataConverter: dataConverter(keys.keyring),
      interceptors: tracingClientInterceptors(),
    });
    const app = await buildApi({ config, client, store, logger: true, keyring: keys.keyring });
    await app.listen({ host: config.api.host, port: config.api.port });
    await listenCodecTls(app, config);
    stops.push(async () => {
      await app.close();
      await connection.close();
    });
    console.log(`API: http://${config.api.host}:${config.api.port} (OpenAPI docs at /docs)`);
    const codec = config.personalData.codec;
    const who = codec.uiWithoutToken
      ? 'decodes for the Web UI without a token: development, API on loopback'
      : 'token required';
    console.log(`Codec endpoint: ${codecEndpoint} (Web UI origin ${codec.uiOrigin}, ${who}; docs/web-ui.md)`);
    console.log(`Evidence retention: schedule ${await ensureRetentionSchedule(client, config)}, daily`);
    if (config.telemetry.workerMetricsAddress)
      console.log(
        `Worker metrics (Prometheus): http://${config.telemetry.workerMetricsAddress}/metrics; API metrics: http://${config.api.host}:${config.api.port}/metrics`,
      );
    if (tracing) console.log(`Traces: OTLP to ${config.telemetry.otlpEndpoint}`);
    for (const note of config.notes) console.log(`  note: ${note}`);
    console.log('Ready. Ctrl-C stops everything.');
  } catch (err) {
    console.error(`Start failed: ${(err as Error).message}`);
    await stopAll(1);
  }
}

void main();
