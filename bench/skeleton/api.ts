/**
 * The skeleton's API: bare Fastify routes that only call Temporal (no auth, no validation, no logs,
 * the SDK's default data converter). Environment: TEMPORAL_ADDRESS, SKELETON_TASK_QUEUE, PORT.
 *
 *   POST /create/:id  {shape}  start + one update that waits for the first activity (like our create)
 *   POST /signal/:id           signal()            POST /update/:id   executeUpdate()
 *   POST /stop/:id             signal() stop       GET  /flows/:id    query()
 */
import Fastify from 'fastify';
import { Client, Connection, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { skeletonFlow, skeletonSignal, skeletonState, skeletonStop, skeletonUpdate, type Shape } from './workflows';

async function main() {
  const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  const client = new Client({ connection, namespace: 'default' });
  const taskQueue = process.env.SKELETON_TASK_QUEUE ?? 'skeleton';
  const app = Fastify({ logger: false });
  type P = { Params: { id: string } };

  app.post<P & { Body: { shape: Shape } }>('/create/:id', async (req, reply) => {
    let created = true;
    try {
      await client.workflow.start(skeletonFlow, { workflowId: req.params.id, taskQueue, args: [req.body.shape] });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      created = false;
    }
    const events = await client.workflow.getHandle(req.params.id).executeUpdate(skeletonUpdate, { args: [{ n: 0 }] });
    return reply.code(created ? 201 : 200).send({ id: req.params.id, events });
  });
  app.post<P>('/signal/:id', async (req) => {
    await client.workflow.getHandle(req.params.id).signal(skeletonSignal, { n: 1 });
    return { received: true };
  });
  app.post<P>('/update/:id', async (req) => ({
    events: await client.workflow.getHandle(req.params.id).executeUpdate(skeletonUpdate, { args: [{ n: 1 }] }),
  }));
  app.post<P>('/stop/:id', async (req) => {
    await client.workflow.getHandle(req.params.id).signal(skeletonStop);
    return { stopped: true };
  });
  app.get('/healthz', async () => ({ ok: true }));
  app.get<P>('/flows/:id', async (req) => client.workflow.getHandle(req.params.id).query(skeletonState));

  await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
  console.log(`skeleton API listening on ${process.env.PORT}`);
  const stop = async () => {
    await app.close();
    await connection.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((err) => {
  console.error(`skeleton API failed: ${(err as Error).message}`);
  process.exit(1);
});
