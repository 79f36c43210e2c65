/**
 * The bench's skeleton (bench/skeleton/workflows.ts) does the Temporal work of the shape it is given:
 * its history, counted the way the bench counts ours (bench/scenarios/p2.ts shapeOf), holds the same
 * activities, signals, updates and child workflows. Otherwise p2's ratio compares unlike work.
 */
import crypto from 'node:crypto';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { Client } from '@temporalio/client';
import { connectToTestTemporal, type TestTemporal } from './helpers/temporal';
import { skeletonActivities } from '../bench/skeleton/activities';
import { skeletonFlow, skeletonSignal, skeletonUpdate, type Shape } from '../bench/skeleton/workflows';
import { shapeOf } from '../bench/scenarios/p2';

let temporal: TestTemporal;
let client: Client;

beforeAll(async () => {
  temporal = await connectToTestTemporal();
  client = new Client({ connection: temporal.client.connection, namespace: 'default' });
});

afterAll(async () => {
  await temporal?.close();
});

test('a shape with signals, updates, timers and children is replayed as that shape', async () => {
  const taskQueue = `skeleton-${crypto.randomBytes(4).toString('hex')}`;
  const worker = await Worker.create({
    connection: temporal.connection,
    taskQueue,
    workflowBundle: await bundleWorkflowCode({
      workflowsPath: require.resolve('../bench/skeleton/workflows'),
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
    }),
    activities: skeletonActivities,
  });
  const shape: Shape = { activities: 9, signals: 5, updates: 3, timers: 12, children: 2 };
  const id = `skeleton-test-${crypto.randomBytes(4).toString('hex')}`;
  await worker.runUntil(async () => {
    const handle = await client.workflow.start(skeletonFlow, { workflowId: id, taskQueue, args: [shape] });
    await handle.executeUpdate(skeletonUpdate, { args: [{ n: 0 }] });
    for (let i = 0; i < shape.signals; i++) await handle.signal(skeletonSignal, { n: 1 });
    for (let i = 1; i < shape.updates; i++) await handle.executeUpdate(skeletonUpdate, { args: [{ n: 1 }] });
    expect(await handle.result()).toEqual({
      events: shape.signals + shape.updates,
      activities: shape.activities - shape.children,
    });
  });
  const replayed = await shapeOf(client, id);
  expect(replayed).toMatchObject({ activities: 9, signals: 5, updates: 3, children: 2 });
  // A timer started and cancelled within one workflow task is never recorded, so some waits leave none.
  expect(replayed.timers).toBeGreaterThanOrEqual(12 - (shape.signals + shape.updates));
  expect(replayed.timers).toBeLessThanOrEqual(12);
});
