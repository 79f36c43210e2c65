/**
 * Our worker for the bench: the production `createWorkers` (workers/index.ts) with the production
 * configuration from the environment, in a process of its own, run with --expose-gc so the bench can
 * read its RSS after a forced GC over IPC (bench/ipc.ts). The SDK's default logger, as workers/main.ts.
 *
 * The chaos suite runs it too, killing and restarting it: with WORKFLOW_BUNDLE_FILE it loads the workflow
 * bundle the suite wrote once instead of bundling at every start (seconds of both cores).
 */
import fs from 'node:fs';
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
    workflowBundle: process.env.WORKFLOW_BUNDLE_FILE
      ? { code: fs.readFileSync(process.env.WORKFLOW_BUNDLE_FILE, 'utf8') }
      : await bundleWorkflows(),
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
  console.error(`worker failed: ${(err as Error).message}`);
  process.exit(1);
});
