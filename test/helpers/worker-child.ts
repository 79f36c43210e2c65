/**
 * A worker in a process of its own (tests that kill it with SIGKILL): the production
 * `createWorkers` on the config the parent passes as `CHILD_ENV` (JSON), with the workflow bundle the
 * parent wrote to `CHILD_BUNDLE` (no bundling here: it takes seconds). Prints `ready` once polling.
 */
import fs from 'node:fs';
import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../../config';
import { FolderEvidenceStore } from '../../activities/evidence-store';
import { createWorkers } from '../../workers';

async function main() {
  const config = loadConfig(JSON.parse(process.env.CHILD_ENV!) as Record<string, string>);
  const connection = await NativeConnection.connect(config.temporal.connectionOptions);
  const folder = new FolderEvidenceStore(config.evidenceDir);
  // CHILD_DIE_AFTER_PUT=<kind>: the process kills itself (SIGKILL) right after storing that kind: a
  // worker dying at that exact point of an activity.
  const dieAfter = process.env.CHILD_DIE_AFTER_PUT;
  const store: typeof folder = Object.assign(Object.create(folder) as typeof folder, {
    async put(kind: string, contentType: string, bytes: Buffer, owner?: string | null) {
      const ref = await folder.put(kind, contentType, bytes, owner);
      if (kind === dieAfter) process.kill(process.pid, 'SIGKILL');
      return ref;
    },
  });
  const workers = await createWorkers({
    connection,
    config,
    store,
    workflowBundle: { code: fs.readFileSync(process.env.CHILD_BUNDLE!, 'utf8') },
  });
  const running = Promise.all(workers.map((w) => w.run()));
  process.stdout.write('ready\n');
  await running;
}

main().catch((err) => {
  process.stderr.write(`worker child failed: ${(err as Error).message}\n`);
  process.exit(1);
});
