/**
 * Safe deploys with Worker Deployment Versioning (README "Changing workflow code"): verifications are
 * PINNED to the build that started them. On the dev server: a Finwave flow started on build A
 * finishes on build A, although build B (an incompatible change to the Finwave workflow,
 * test/fixtures/workflows-build-b.ts) became the current version meanwhile and takes the new flows.
 * The endpoint registry, which never ends, is AUTO_UPGRADE. In production, a worker without a
 * deployment name and build id refuses to start.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { temporal as proto } from '@temporalio/proto';
import type { Client } from '@temporalio/client';
import { bundleWorkflows } from '../workers';
import { workerVersioningError } from '../config/worker';
import { loadConfig } from '../config';
import { connectToTestTemporal, type TestTemporal } from './helpers/temporal';
import { API_KEY, control, startStack, type Stack } from './helpers/stack';
import { endpointRegistryWorkflowId } from '../workflows/notify-shared';

let temporal: TestTemporal;
const stacks: Stack[] = [];

beforeAll(async () => {
  temporal = await connectToTestTemporal();
});

afterAll(async () => {
  for (const s of stacks) await s.stop();
  await temporal?.close();
});

const hex = () => crypto.randomBytes(4).toString('hex');

async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `timed out: ${what}${last ? ` (${last instanceof Error ? last.message : JSON.stringify(last)})` : ''}`,
  );
}

/** What an operator does with `temporal worker deployment set-current-version`, then waits until routing uses it. */
async function makeCurrent(client: Client, deploymentName: string, buildId: string): Promise<void> {
  const ns = client.options.namespace;
  // Refused (FAILED_PRECONDITION) until the build polls every task queue the current one has: retried.
  await eventually(`${buildId} registered on every task queue and set current`, async () => {
    const d = await client.workflowService.describeWorkerDeployment({ namespace: ns, deploymentName });
    if (!d.workerDeploymentInfo?.versionSummaries?.some((v) => v.deploymentVersion?.buildId === buildId))
      return undefined;
    await client.workflowService.setWorkerDeploymentCurrentVersion({
      namespace: ns,
      deploymentName,
      buildId,
      conflictToken: d.conflictToken,
    });
    return true;
  });
  await eventually(`${buildId} current`, async () => {
    const info = (await client.workflowService.describeWorkerDeployment({ namespace: ns, deploymentName }))
      .workerDeploymentInfo;
    const done =
      info?.routingConfigUpdateState !==
      proto.api.enums.v1.RoutingConfigUpdateState.ROUTING_CONFIG_UPDATE_STATE_IN_PROGRESS;
    return info?.routingConfig?.currentDeploymentVersion?.buildId === buildId && done ? true : undefined;
  });
}

/** The build ids of every workflow task completed in the run, and what the run is pinned to. */
async function buildsOf(client: Client, workflowId: string) {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const tasks = (history.events ?? []).flatMap((e) =>
    e.workflowTaskCompletedEventAttributes ? [e.workflowTaskCompletedEventAttributes] : [],
  );
  const raw = await client.workflowService.describeWorkflowExecution({
    namespace: client.options.namespace,
    execution: { workflowId },
  });
  const behaviors = new Set(tasks.map((t) => t.versioningBehavior));
  return {
    taskBuilds: [...new Set(tasks.map((t) => t.deploymentVersion?.buildId ?? null))],
    pinned: behaviors.size === 1 && behaviors.has(proto.api.enums.v1.VersioningBehavior.VERSIONING_BEHAVIOR_PINNED),
    runningOn: raw.workflowExecutionInfo?.versioningInfo?.deploymentVersion?.buildId ?? null,
  };
}

async function finish(stack: Stack, id: string) {
  const state = (await stack.api('GET', `/v1/verifications/${id}`)).body;
  expect(
    (await control(stack, `/finwave/_sandbox/onboardings/${state.providerReference}/finish`, { scenario: 'approved' }))
      .status,
  ).toBe(200);
  return stack.waitFor(id, (s) => s.status === 'completed');
}

const VERSIONING_REQUIRED =
  'Configuration error: WORKER_DEPLOYMENT_NAME and WORKER_BUILD_ID are required in production (Worker Deployment Versioning: each verification stays on the build that started it)';

/** What a production worker needs besides versioning (config/index.ts). */
const production = {
  APP_ENV: 'production',
  API_KEYS: 'backend:0123456789abcdef0123',
  WEBHOOK_SECRET: 's'.repeat(40),
  PUBLIC_BASE_URL: 'https://idv.example.com',
  PAYLOAD_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
  AUDIT_KEYS: `a1:${Buffer.alloc(32, 6).toString('base64')}`,
  FINWAVE_BASE_URL: 'https://idgateway.finwave.com/management',
  FINWAVE_CLIENT_TOKEN: 'real-token',
};

test('in production, a worker without WORKER_DEPLOYMENT_NAME and WORKER_BUILD_ID refuses to start with one line', () => {
  const res = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', 'workers/main.ts'], {
    cwd: path.join(__dirname, '..'),
    // No Temporal address that answers: the refusal comes before any connection.
    env: { PATH: process.env.PATH, TEMPORAL_ADDRESS: '127.0.0.1:9', ...production },
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(res.status).toBe(1);
  expect(res.stderr.trim()).toBe(VERSIONING_REQUIRED);
  expect(res.stdout).toBe('');
});

test('the versioning settings are required in production only', () => {
  expect(workerVersioningError(loadConfig(production))).toBe(VERSIONING_REQUIRED);
  expect(
    workerVersioningError(loadConfig({ ...production, WORKER_DEPLOYMENT_NAME: 'idv', WORKER_BUILD_ID: 'abc123' })),
  ).toBeNull();
  expect(workerVersioningError(loadConfig({}))).toBeNull();
});

test('a flow started on build A finishes on build A while build B takes new flows; the endpoint registry follows the current build', async () => {
  try {
    await demo();
  } catch (err) {
    // Some failures (gRPC) print no message in jest's report: say what it was.
    const e = err as { name?: string; message?: string; code?: number; details?: string };
    throw Object.assign(
      new Error(`${e?.name ?? typeof err}: ${e?.message || e?.details || String(err)} (code ${String(e?.code)})`),
      { cause: err },
    );
  }
});

async function demo(): Promise<void> {
  const deploymentName = `idv-${hex()}`;
  // The endpoint registry (one workflow per tenant) of a tenant of its own, through a second key.
  const tenant = `v${hex()}`;
  const tenantKey = `key-${hex()}-0123456789`;
  const shared = {
    WORKER_DEPLOYMENT_NAME: deploymentName,
    TASK_QUEUE_PREFIX: `v${hex()}`,
    API_KEYS: `tests:${API_KEY},registry:${tenantKey}:${tenant}`,
  };

  const a = await startStack({ ...temporal, env: { ...shared, WORKER_BUILD_ID: 'build-a' } });
  stacks.push(a);
  await makeCurrent(temporal.client, deploymentName, 'build-a');
  const first = `finwave:${hex()}`;
  expect(
    (await a.api('POST', '/v1/verifications', { provider: 'finwave', reference: first.split(':')[1] })).body.status,
  ).toBe('awaiting_user');
  // The tenant's endpoint registry, which never ends, starts on A too.
  expect(
    (await a.api('POST', '/v1/webhook-endpoints', { url: 'https://hooks.example.com/idv' }, { auth: tenantKey }))
      .status,
  ).toBe(201);

  // Deploy build B next to A and make it current: new flows go to B, the running one stays on A.
  const b = await startStack({
    ...temporal,
    env: { ...shared, WORKER_BUILD_ID: 'build-b' },
    workflowBundle: await bundleWorkflows(require.resolve('./fixtures/workflows-build-b')),
  });
  stacks.push(b);
  await makeCurrent(temporal.client, deploymentName, 'build-b');
  const second = `finwave:${hex()}`;
  expect(
    (await b.api('POST', '/v1/verifications', { provider: 'finwave', reference: second.split(':')[1] })).body.status,
  ).toBe('awaiting_user');

  // The first flow continues after the deploy (its webhook, its result read, its evidence), on A.
  expect(await finish(a, first)).toMatchObject({ status: 'completed', outcome: 'approved' });
  expect(await finish(b, second)).toMatchObject({ status: 'completed', outcome: 'approved' });

  expect(await buildsOf(temporal.client, first)).toEqual({
    taskBuilds: ['build-a'],
    pinned: true,
    runningOn: 'build-a',
  });
  expect(await buildsOf(temporal.client, second)).toEqual({
    taskBuilds: ['build-b'],
    pinned: true,
    runningOn: 'build-b',
  });
  // The registry is AUTO_UPGRADE: not held on A, it follows the current build.
  const registry = await temporal.client.workflowService.describeWorkflowExecution({
    namespace: temporal.client.options.namespace,
    execution: { workflowId: endpointRegistryWorkflowId(tenant) },
  });
  expect(registry.workflowExecutionInfo?.versioningInfo?.behavior).toBe(
    proto.api.enums.v1.VersioningBehavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE,
  );
  // Which code ran: only build B's Finwave workflow sets the marker.
  expect((await temporal.client.workflow.getHandle(first).describe()).memo?.build).toBeUndefined();
  expect((await temporal.client.workflow.getHandle(second).describe()).memo?.build).toBe('b');
}
