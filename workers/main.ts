/** Runs the worker. SIGINT / SIGTERM drain the workers, then the process exits. */
import { NativeConnection } from '@temporalio/worker';
import { loadConfigOrExit, workflowTaskQueue } from '../config';
import { workerVersioningError } from '../config/worker';
import { FolderEvidenceStore } from '../activities/evidence-store';
import { s3EvidenceStoreFromEnv } from '../activities/s3-evidence-store';
import { activityTaskQueues, bundleWorkflows, createWorkers } from '.';
import { describeKeyring, resolvePayloadKeyring } from '../codec';
import { installJsonRuntime } from './logging';
import { installTracing } from '../observability/tracing';

async function main() {
  const config = loadConfigOrExit();
  const refused = workerVersioningError(config);
  if (refused) {
    process.stderr.write(`${refused}\n`);
    process.exit(1);
  }
  installJsonRuntime('INFO', undefined, config.telemetry.workerMetricsAddress);
  const tracing = installTracing({
    serviceName: config.telemetry.serviceName ?? 'idv-worker',
    otlpEndpoint: config.telemetry.otlpEndpoint,
  });
  const keys = resolvePayloadKeyring(config);
  const connection = await NativeConnection.connect(config.temporal.connectionOptions);
  const workers = await createWorkers({
    connection,
    config,
    store: s3EvidenceStoreFromEnv() ?? new FolderEvidenceStore(config.evidenceDir),
    workflowBundle: await bundleWorkflows(),
    keyring: keys.keyring,
  });
  console.log(describeKeyring(keys));
  const stop = () => {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  if (config.telemetry.workerMetricsAddress)
    console.log(`Worker: Prometheus metrics on http://${config.telemetry.workerMetricsAddress}/metrics`);
  console.log(
    `Worker: polling workflows on ${workflowTaskQueue(config)}, activities on ${activityTaskQueues(config).join(', ')} (${config.temporal.address})`,
  );
  await Promise.all(workers.map((w) => w.run()));
  await connection.close();
  await tracing?.shutdown(); // flushes the last spans
  console.log('Worker: stopped');
}

main().catch((err) => {
  console.error(`Worker failed: ${(err as Error).message}`);
  process.exit(1);
});
