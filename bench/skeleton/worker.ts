/**
 * The skeleton's worker: one Worker, one task queue, the skeleton workflows and no-op activities, the
 * SDK's default data converter. Same process shape as ours (ts-node, --expose-gc, IPC).
 *
 * Environment: TEMPORAL_ADDRESS, SKELETON_TASK_QUEUE.
 */
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { skeletonActivities } from './activities';
import { send, serveIpc } from '../ipc';

async function main() {
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  const worker = await Worker.create({
    connection,
    namespace: 'default',
    taskQueue: process.env.SKELETON_TASK_QUEUE ?? 'skeleton',
    workflowBundle: await bundleWorkflowCode({ workflowsPath: require.resolve('./workflows'), logger: quiet }),
    activities: skeletonActivities,
  });
  const running = worker.run();
  serveIpc(async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
    await connection.close();
  });
  send({ type: 'ready' });
  await running;
}

const quiet = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (m: string) => console.warn(m),
  error: (m: string) => console.error(m),
  log: () => undefined,
};

main().catch((err) => {
  send({ type: 'failed', message: (err as Error).message });
  console.error(`skeleton worker failed: ${(err as Error).message}`);
  process.exit(1);
});
