/**
 * Proves the Temporal test plumbing: the shared dev server (custom search attributes + visibility queries) and the
 * Java time-skipping test server (fake time, custom search attributes registered by createTimeSkippingEnv).
 */
import { randomUUID } from 'node:crypto';
import type { WorkflowExecutionInfo } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import {
  connectToTestTemporal,
  createTimeSkippingEnv,
  installTestRuntime,
  testDataConverter,
  type TestTemporal,
} from './helpers/temporal';
import {
  VerificationOutcome,
  VerificationProvider,
  VerificationStatus,
  searchAttributesProbe,
  sleepTwoHours,
} from './fixtures/infra-workflows';

const HOUR_MS = 60 * 60 * 1000;

let workflowBundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  installTestRuntime();
  // Bundle once, reuse for both workers.
  workflowBundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('./fixtures/infra-workflows'),
    logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} },
  });
});

describe('dev server (shared, started by jest globalSetup)', () => {
  let temporal: TestTemporal;

  beforeAll(async () => {
    temporal = await connectToTestTemporal();
  });
  afterAll(async () => {
    await temporal?.close();
  });

  it('answers GetSystemInfo', async () => {
    const info = await temporal.client.workflowService.getSystemInfo({});
    expect(info.capabilities).toBeTruthy();
  });

  it('lists a workflow by its custom search attributes', async () => {
    const taskQueue = `infra-${randomUUID()}`;
    const status = `x-${randomUUID()}`;
    const worker = await Worker.create({
      connection: temporal.connection,
      taskQueue,
      workflowBundle,
      dataConverter: testDataConverter(),
    });

    await worker.runUntil(async () => {
      const handle = await temporal.client.workflow.start(searchAttributesProbe, {
        taskQueue,
        workflowId: `sa-probe-${randomUUID()}`,
        args: [status, true],
        typedSearchAttributes: [{ key: VerificationProvider, value: 'test-provider' }],
      });

      // Visibility is eventually consistent: poll until the upserted value is indexed.
      const query = `VerificationStatus = "${status}"`;
      let listed: WorkflowExecutionInfo[] = [];
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        listed = [];
        for await (const wf of temporal.client.workflow.list({ query })) listed.push(wf);
        if (listed.length) break;
        await new Promise((r) => setTimeout(r, 200));
      }

      expect(listed.map((wf) => wf.workflowId)).toEqual([handle.workflowId]);
      const sa = listed[0]!.typedSearchAttributes;
      expect(sa.get(VerificationProvider)).toBe('test-provider');
      expect(sa.get(VerificationStatus)).toBe(status);
      expect(sa.get(VerificationOutcome)).toBe('approved');

      await handle.signal('finish');
      expect(await handle.result()).toBe(status);
    });
  });
});

describe('time-skipping test server (Java)', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    env = await createTimeSkippingEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it('skips a 2-hour workflow sleep', async () => {
    const taskQueue = `infra-${randomUUID()}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle,
      dataConverter: testDataConverter(),
    });
    const serverTimeBefore = await env.currentTimeMs();
    const realStart = Date.now();

    const { before, after } = await worker.runUntil(
      env.client.workflow.execute(sleepTwoHours, { taskQueue, workflowId: `sleep-${randomUUID()}` }),
    );

    expect(after - before).toBeGreaterThanOrEqual(2 * HOUR_MS);
    expect(after - before).toBeLessThan(2 * HOUR_MS + 60_000);
    expect((await env.currentTimeMs()) - serverTimeBefore).toBeGreaterThanOrEqual(2 * HOUR_MS);
    expect(Date.now() - realStart).toBeLessThan(30_000);
  });

  it('env.sleep moves server time while a workflow is parked', async () => {
    const taskQueue = `infra-${randomUUID()}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle,
      dataConverter: testDataConverter(),
    });
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(sleepTwoHours, { taskQueue, workflowId: `sleep-${randomUUID()}` });
      const t0 = await env.currentTimeMs();
      await env.sleep('3 hours');
      expect((await env.currentTimeMs()) - t0).toBeGreaterThanOrEqual(3 * HOUR_MS);
      const { before, after } = await handle.result();
      expect(after - before).toBeGreaterThanOrEqual(2 * HOUR_MS);
    });
  });

  it('accepts the custom search attributes (at start and upserted by the workflow)', async () => {
    const taskQueue = `infra-${randomUUID()}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle,
      dataConverter: testDataConverter(),
    });
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(searchAttributesProbe, {
        taskQueue,
        workflowId: `sa-probe-${randomUUID()}`,
        args: ['pending', false],
        typedSearchAttributes: [{ key: VerificationProvider, value: 'test-provider' }],
      });
      expect(await handle.result()).toBe('pending');
      const sa = (await handle.describe()).typedSearchAttributes;
      expect(sa.get(VerificationProvider)).toBe('test-provider');
      expect(sa.get(VerificationStatus)).toBe('pending');
      expect(sa.get(VerificationOutcome)).toBe('approved');
    });
  });
});
