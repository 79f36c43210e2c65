/**
 * Our worker for the bench: the production `createWorkers` (workers/index.ts) with the production
 * configuration from the environment, in a process of its own, run with --expose-gc so the bench can
 * read its RSS after a forced GC over IPC (bench/ipc.ts). The SDK's default logger, as workers/main.ts.
 */
import { NativeConnection } from '@temporalio/worker';
import { loadConfigOrExit } from '../config';
import { FolderEvidenceStore } from '../activities/evidence-store';
import { bundleWorkflows, createWorkers } from '../workers';
import { resolvePayloadKeyring } from '../codec';
import { send, serveIpc } from './ipc';

async function main() {
  const config = loadConfigOrExit();
  const connection = await NativeConnection.connect(config.temporal.connectionOptions);
  const workers = await createWorkers({
    connection,
    config,
    store: new FolderEvidenceStore(config.evidenceDir),
    workflowBundle: await bundleWorkflows(),
    keyring: resolvePayloadKeyring(config).keyring,
  });
  const running = Promise.all(workers.map((w) => w.run()));
  serveIpc(async () => {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    await running;
    await connection.close();
  });
  send({ type: 'ready' });
  await running;
}

main().catch((err) => {
  send({ type: 'failed', message: (err as Error).message });
  console.error(`bench worker failed: ${(err as Error).message}`);
  process.exit(1);
});
