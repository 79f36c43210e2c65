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
 * Ctrl-C stops everything in reverse order.
 */
import { NativeConnection } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import { loadConfigOrExit, PROVIDERS, taskQueueFor } from '../config';
import { FolderEvidenceStore } from '../activities/evidence-store';
import { buildApi } from '../client/app';
import { createSandboxServer } from '../sandboxes/server';
import { bundleWorkflows, createWorkers } from '../workers';
import { runLocalTemporal } from './server';
import { listenCodecTls } from '../client/codec';
import { ensureRetentionSchedule } from '../client/retention-schedule';
import { housekeepingTaskQueue } from '../config/personal-data';
import { dataConverter, describeKeyring, resolvePayloadKeyring } from '../codec';

const LOCAL = /^(localhost|127\.0\.0\.1):7233$/;

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const stops: (() => Promise<unknown>)[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    for (const stop of stops.reverse()) await stop().catch((err) => console.error(`while stopping: ${(err as Error).message}`));
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  try {
    const keys = resolvePayloadKeyring(config);
    console.log(describeKeyring(keys));
    const tls = config.personalData.codec.tls;
    // The Web UI calls the codec from the browser; it passes a token only to an https:// endpoint.
    const codecEndpoint = tls ? `https://localhost:${tls.port}/codec` : `http://localhost:${config.api.port}/codec`;
    const useLocal = LOCAL.test(config.temporal.address) && !config.temporal.connectionOptions.apiKey && process.env.LOCAL_TEMPORAL !== 'off';
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
      const sandbox = createSandboxServer({ publicUrl: config.sandbox.baseUrl });
      await sandbox.app.listen({ host: config.sandbox.host, port: config.sandbox.port });
      stops.push(() => sandbox.close());
      console.log(`Vendor sandboxes: ${config.sandbox.baseUrl} (controls: sandboxes/README.md)`);
    }

    const store = new FolderEvidenceStore(config.evidenceDir);
    const workerConnection = await NativeConnection.connect(config.temporal.connectionOptions);
    const workers = await createWorkers({ connection: workerConnection, config, store, workflowBundle: await bundleWorkflows(), keyring: keys.keyring });
    const running = Promise.all(workers.map((w) => w.run()));
    stops.push(async () => {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await running;
      await workerConnection.close();
    });
    console.log(`Worker: task queues ${[...PROVIDERS.map((p) => taskQueueFor(config, p)), housekeepingTaskQueue(config)].join(', ')}`);

    const connection = await Connection.connect(config.temporal.connectionOptions);
    const client = new Client({ connection, namespace: config.temporal.namespace, dataConverter: dataConverter(keys.keyring) });
    const app = await buildApi({ config, client, store, logger: true, keyring: keys.keyring });
    await app.listen({ host: config.api.host, port: config.api.port });
    await listenCodecTls(app, config);
    stops.push(async () => {
      await app.close();
      await connection.close();
    });
    console.log(`API: http://${config.api.host}:${config.api.port} (OpenAPI docs at /docs)`);
    const codec = config.personalData.codec;
    const who = codec.uiWithoutToken ? 'decodes for the Web UI without a token: development, API on loopback' : 'token required';
    console.log(`Codec endpoint: ${codecEndpoint} (Web UI origin ${codec.uiOrigin}, ${who}; README "Personal data and evidence")`);
    console.log(`Evidence retention: schedule ${await ensureRetentionSchedule(client, config)}, daily`);
    for (const note of config.notes) console.log(`  note: ${note}`);
    console.log('Ready. Ctrl-C stops everything.');
  } catch (err) {
    console.error(`Start failed: ${(err as Error).message}`);
    await stopAll(1);
  }
}

void main();
