/**
 * Worker tuning (config/worker.ts): WORKER_MAX_CACHED_WORKFLOWS and WORKER_STICKY_QUEUE_TIMEOUT reach
 * every Worker the production createWorkers builds; unset, the SDK's defaults stay.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Worker } from '@temporalio/worker';
import { ConfigError, loadConfig } from '../config';
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
  const config = loadConfig({ TEMPORAL_ADDRESS: temporal.address, TASK_QUEUE_PREFIX: `t${crypto.randomBytes(4).toString('hex')}`, EVIDENCE_DIR: dir, ...env });
  return createWorkers({ connection: temporal.connection, config, store: new FolderEvidenceStore(dir), workflowBundle: await workflowBundle() });
}

test('the settings reach every Worker', async () => {
  const workers = await workersFor({ WORKER_MAX_CACHED_WORKFLOWS: '7', WORKER_STICKY_QUEUE_TIMEOUT: '3s' });
  try {
    expect(workers.length).toBeGreaterThan(1);
    for (const w of workers) {
      expect(w.options.maxCachedWorkflows).toBe(7);
      expect(w.options.stickyQueueScheduleToStartTimeoutMs).toBe(3_000);
    }
  } finally {
    await Promise.all(workers.map((w) => w.runUntil(Promise.resolve())));
  }
});

test('unset, the SDK sizes the cache from the heap and keeps its 10 s sticky timeout', async () => {
  const workers = await workersFor({});
  try {
    for (const w of workers) {
      expect(w.options.maxCachedWorkflows).toBeGreaterThan(7);
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
