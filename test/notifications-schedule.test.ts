/**
 * The delivery schedule for real, on the Java time-skipping test server: a receiver down for 6 hours
 * gets every event once it is back, in sequence order per verification, each exactly once by id;
 * an endpoint failing for the whole schedule (about 27.5 hours of attempts) is disabled and flagged.
 */
import crypto from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { AppConfig } from '../config';
import { workflowTaskQueue } from '../config';
import type { SandboxServer } from '../sandboxes/server';
import { startTimeSkippingService, type TimeSkippingService } from './helpers/time-skipping';
import { finwaveInput, finwaveOptions } from '../client/providers/finwave';
import { finwaveOnboarding } from '../workflows/finwave';
import { webhookEndpoints } from '../workflows/webhook-endpoints';
import { NOTIFICATIONS_MEMO_KEY } from '../workflows/notifier';
import {
  deliveryWorkflowId,
  endpointRegistryWorkflowId,
  endpointsQuery,
  type WebhookEndpoint,
} from '../workflows/notify-shared';

let service: TimeSkippingService;
let env: TestWorkflowEnvironment;
let sandbox: SandboxServer;
let config: AppConfig;

beforeAll(async () => {
  service = await startTimeSkippingService({ finwave: { webhooks: { maxAttempts: 1, firstRetryMs: 10 } } });
  ({ env, sandbox, config } = service);
});

afterAll(async () => {
  await service?.stop();
});

const hex = () => crypto.randomBytes(4).toString('hex');

/** A tenant with one endpoint at the sandbox receiver `name` (the registry started as the API would). */
async function tenantWithEndpoint(name: string): Promise<{ tenant: string; endpoint: WebhookEndpoint }> {
  const tenant = `tenant-${hex()}`;
  const at = new Date(await env.currentTimeMs()).toISOString();
  const endpoint: WebhookEndpoint = {
    id: `ep_${crypto.randomBytes(8).toString('hex')}`,
    url: `${config.sandbox.baseUrl}/receiver/${name}`,
    description: null,
    eventTypes: [],
    enabled: true,
    disabledReason: null,
    flagged: false,
    secrets: [{ secret: `whsec_${crypto.randomBytes(24).toString('base64')}`, createdAt: at, expiresAt: null }],
    createdAt: at,
    updatedAt: at,
  };
  await env.client.workflow.start(webhookEndpoints, {
    workflowId: endpointRegistryWorkflowId(tenant),
    taskQueue: workflowTaskQueue(config),
    args: [{ tenant, endpoints: [endpoint] }],
  });
  sandbox.receiver.inbox(name).secrets = [endpoint.secrets[0]!.secret];
  return { tenant, endpoint };
}

/** A Finwave verification started as the API starts it (with the notifications memo). */
function startFinwave(tenant: string) {
  const reference = `ts-${hex()}`;
  const id = `finwave:${reference}`;
  return env.client.workflow.start(finwaveOnboarding, {
    workflowId: id,
    taskQueue: workflowTaskQueue(config),
    args: [finwaveInput(id, reference, {}, finwaveOptions.parse({}))],
    memo: { [NOTIFICATIONS_MEMO_KEY]: { tenant, taskQueue: workflowTaskQueue(config) } },
  });
}

function onboardingOf(workflowId: string) {
  const o = [...sandbox.finwave.onboardings.values()].find((x) => `finwave:${x.customId}` === workflowId);
  expect(o).toBeDefined();
  return o!;
}

// This one first: the Java test server stops skipping time once an abandoned child (an outbox) completes.
test('an endpoint failing for the whole schedule is disabled and flagged; the delivery ends failed', async () => {
  const name = `dead-${hex()}`;
  const { tenant, endpoint } = await tenantWithEndpoint(name);
  sandbox.receiver.inbox(name).answer = { status: 500, delayMs: 0 };
  const v = await startFinwave(tenant);
  const delivery = env.client.workflow.getHandle(deliveryWorkflowId(endpoint.id, { id: `${v.workflowId}:1` }));
  const startedAt = await env.currentTimeMs();
  for (
    let i = 0;
    i < 100 &&
    !(await delivery.describe().then(
      () => true,
      () => false,
    ));
    i++
  )
    await new Promise((r) => setTimeout(r, 100)); // the outbox starts it
  const record = await delivery.result();
  const hours = ((await env.currentTimeMs()) - startedAt) / 3_600_000;
  expect(record.status).toBe('failed');
  expect(record.attempts).toHaveLength(8);
  expect(record.attempts.every((a: { statusCode: number }) => a.statusCode === 500)).toBe(true);
  // The schedule's waits add up to about 27.5 hours (each ±20 % jitter).
  expect(hours).toBeGreaterThan(27.5 * 0.8);
  expect(hours).toBeLessThan(27.5 * 1.2 + 0.1);
  expect(await registryEndpoint(tenant)).toMatchObject({
    enabled: false,
    flagged: true,
    disabledReason: 'failing for the whole retry schedule',
  });
}, 120_000);

test('a receiver down for 6 hours gets every event after it recovers, in order per verification, each once by id', async () => {
  const name = `down-${hex()}`;
  const { tenant, endpoint } = await tenantWithEndpoint(name);
  sandbox.receiver.inbox(name).answer = { status: 503, delayMs: 0 };
  const first = await startFinwave(tenant);
  const second = await startFinwave(tenant);
  await env.sleep('1 hour');
  sandbox.finwave.finish(onboardingOf(first.workflowId), 'approved'); // completes while the receiver is down
  expect(await first.result()).toMatchObject({ status: 'completed', outcome: 'approved' });
  await env.sleep('5 hours');
  const down = sandbox.receiver.inbox(name).received;
  expect(down.length).toBeGreaterThan(0);
  expect(down.every((r) => r.answered === 503)).toBe(true); // nothing got through in 6 hours

  sandbox.receiver.inbox(name).answer = { status: 200, delayMs: 0 };
  sandbox.finwave.finish(onboardingOf(second.workflowId), 'low-score'); // after the recovery
  expect(await second.result()).toMatchObject({ status: 'completed' });
  await env.sleep('12 hours'); // the next attempt on the schedule is at most 5 h (+20 %) after the last

  const delivered = sandbox.receiver.inbox(name).received.filter((r) => r.answered === 200);
  for (const handle of [first, second]) {
    const got = delivered.filter((r) => r.verificationId === handle.workflowId);
    expect(got.map((r) => r.type)).toEqual([
      'verification.created',
      'verification.action_required',
      'verification.completed',
    ]);
    expect(got.map((r) => r.sequence)).toEqual([1, 2, 3]); // in order
    expect(new Set(got.map((r) => r.webhookId)).size).toBe(3); // each once by id
    expect(got.every((r) => r.verified)).toBe(true);
  }
  // The first event's delivery kept its id across attempts and logged each of them.
  const record = await env.client.workflow
    .getHandle(deliveryWorkflowId(endpoint.id, { id: `${first.workflowId}:1` }))
    .result();
  expect(record).toMatchObject({ status: 'delivered', eventId: `${first.workflowId}:1` });
  expect(record.attempts.length).toBeGreaterThanOrEqual(6); // 0, 5 s, 5 min, 30 min, 2 h, 5 h (the one after 6 h)
  expect(record.attempts.slice(0, -1).every((a: { statusCode: number }) => a.statusCode === 503)).toBe(true);
  expect(record.attempts.at(-1)).toMatchObject({ statusCode: 200 });
}, 120_000);

async function registryEndpoint(tenant: string): Promise<WebhookEndpoint> {
  return (await env.client.workflow.getHandle(endpointRegistryWorkflowId(tenant)).query(endpointsQuery)).endpoints[0]!;
}
