/**
 * The chaos suite's worker: the production `createWorkers` on the configuration from the environment,
 * in a process of its own that the suite kills with SIGKILL and starts again. It loads the workflow
 * bundle the suite wrote once (CHAOS_BUNDLE) instead of bundling at every start (that takes seconds of
 * both cores), and says `ready` over IPC once it polls (bench/ipc.ts).
 */
import fs from 'node:fs';
import { NativeConnection } from '@temporalio/worker';
import { loadConfigOrExit } from '../config';
import { FolderEvidenceStore } from '../activities/evidence-store';
import { createWorkers } from '../workers';
import { resolvePayloadKeyring } from '../codec';
import { send, serveIpc } from '../bench/ipc';

async function main() {
  const config = loadConfigOrExit();
  const connection = await NativeConnection.connect(config.temporal.connectionOptions);
  const workers = await createWorkers({
    connection,
    config,
    store: new FolderEvidenceStore(config.evidenceDir),
    workflowBundle: { code: fs.readFileSync(process.env.CHAOS_BUNDLE!, 'utf8') },
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
  console.error(`chaos worker failed: ${(err as Error).message}`);
  process.exit(1);
});
