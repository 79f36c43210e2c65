/**
 * Worker tuning (config/worker.ts) and the task-queue layout (config/task-queues.ts) of the production
 * createWorkers: one workflow Worker on `<prefix>-workflows`, activity-only Workers on the vendors',
 * notifications' and housekeeping queues; WORKER_MAX_CACHED_WORKFLOWS and WORKER_STICKY_QUEUE_TIMEOUT
 * reach the Worker that runs workflows.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Worker } from '@temporalio/worker';
import { ConfigError, loadConfig } from '../config';
import { DEFAULT_MAX_CACHED_WORKFLOWS } from '../config/worker';
import { FolderEvidenceStore } from '../activities/evidence-store';
import { createWorkers } from '../workers';
import { connectToTestTemporal, type TestTemporal } from './helpers/temporal';
import { workflowBundle } from './helpers/stack';

let temporal: TestTemporal;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'idv-tuning-'));

beforeAll(async () => {
  temporal = await connectToTestTemporal();
});

afterAll(async () => {
  await temporal?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function workersFor(env: Record<string, string>): Promise<Worker[]> {
  const config = configFor(env);
  return createWorkers({
    connection: temporal.connection,
    config,
    store: new FolderEvidenceStore(dir),
    workflowBundle: await workflowBundle(),
  });
}

function configFor(env: Record<string, string>) {
  return loadConfig({
    TEMPORAL_ADDRESS: temporal.address,
    TASK_QUEUE_PREFIX: `t${crypto.randomBytes(4).toString('hex')}`,
    EVIDENCE_DIR: dir,
    ...env,
  });
}

const runsWorkflows = (w: Worker) => w.options.workflowBundle !== undefined;
const stop = (workers: Worker[]) => Promise.all(workers.map((w) => w.runUntil(Promise.resolve())));

test('one workflow Worker on the shared queue; activity-only Workers per vendor, rate-limited each', async () => {
  const workers = await workersFor({ VENDOR_RATE_LIMITS: 'finwave:5,*:20' });
  try {
    const prefix = workers[0]!.options.taskQueue.replace(/-workflows$/, '');
    const withWorkflows = workers.filter(runsWorkflows);
    expect(withWorkflows.map((w) => w.options.taskQueue)).toEqual([`${prefix}-workflows`]);
    const activityOnly = Object.fromEntries(
      workers
        .filter((w) => !runsWorkflows(w))
        .map((w) => [w.options.taskQueue, w.options.maxTaskQueueActivitiesPerSecond]),
    );
    expect(activityOnly).toEqual({
      [`${prefix}-finwave`]: 5,
      [`${prefix}-fourthline`]: 20,
      [`${prefix}-authenteq`]: 20,
      [`${prefix}-namirial`]: 20,
      [`${prefix}-id360`]: 20,
      [`${prefix}-notifications`]: undefined,
      [`${prefix}-housekeeping`]: undefined,
    });
  } finally {
    await stop(workers);
  }
});

test('the settings reach the Worker that runs workflows', async () => {
  const workers = await workersFor({
    WORKER_MAX_CACHED_WORKFLOWS: '7',
    WORKER_STICKY_QUEUE_TIMEOUT: '3s',
  });
  try {
    expect(workers.filter(runsWorkflows)).toHaveLength(1);
    for (const w of workers.filter(runsWorkflows)) {
      expect(w.options.maxCachedWorkflows).toBe(7);
      expect(w.options.stickyQueueScheduleToStartTimeoutMs).toBe(3_000);
    }
  } finally {
    await Promise.all(workers.map((w) => w.runUntil(Promise.resolve())));
  }
});

test("unset, the workflow Worker caches the product default (not the SDK's heap-sized thousands) and keeps the SDK's 10 s sticky timeout", async () => {
  const workers = await workersFor({});
  try {
    expect(DEFAULT_MAX_CACHED_WORKFLOWS).toBe(100);
    for (const w of workers.filter(runsWorkflows)) {
      expect(w.options.maxCachedWorkflows).toBe(DEFAULT_MAX_CACHED_WORKFLOWS);
      // Every workflow-task slot still has a cached workflow to work on.
      expect(w.options.tuner.workflowTaskSlotSupplier).toMatchObject({ type: 'fixed-size', numSlots: 40 });
      expect(w.options.stickyQueueScheduleToStartTimeoutMs).toBe(10_000);
    }
  } finally {
    await Promise.all(workers.map((w) => w.runUntil(Promise.resolve())));
  }
});

test.each([
  [{ WORKER_MAX_CACHED_WORKFLOWS: 'many' }, 'WORKER_MAX_CACHED_WORKFLOWS'],
  [{ WORKER_MAX_CACHED_WORKFLOWS: '-1' }, 'WORKER_MAX_CACHED_WORKFLOWS'],
  [{ WORKER_STICKY_QUEUE_TIMEOUT: '10 seconds' }, 'WORKER_STICKY_QUEUE_TIMEOUT'],
])('a bad setting %p stops the start with a line naming %s', (env, variable) => {
  expect(() => loadConfig(env)).toThrow(ConfigError);
  expect(() => loadConfig(env)).toThrow(`Configuration error: ${variable}`);
});
