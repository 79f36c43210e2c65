/**
 * Outside development, notification endpoints must be HTTPS and resolve to public addresses only:
 * refused when registered (the API, 422 unsafe_endpoint) and again at delivery time (the activity),
 * for an endpoint registered earlier or a name whose DNS answer changed.
 */
import os from 'node:os';
import crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { loadConfig } from '../config';
import { buildApi } from '../client/app';
import { FolderEvidenceStore } from '../activities/evidence-store';
import { createNotificationActivities } from '../activities/notifications';
import { isPublicAddress } from '../activities/ssrf';
import { webhookEndpoints } from '../workflows/webhook-endpoints';
import { endpointRegistryWorkflowId, type NotificationEvent } from '../workflows/notify-shared';
import { connectToTestTemporal, testDataConverter, type TestTemporal } from './helpers/temporal';
import { bundleOptions } from './helpers/stack';

let temporal: TestTemporal;
let app: FastifyInstance;
const key = '0123456789abcdef0123';

beforeAll(async () => {
  temporal = await connectToTestTemporal();
  const config = loadConfig({
    APP_ENV: 'production',
    API_KEYS: `backend:${key}`,
    WEBHOOK_SECRET: 's'.repeat(40),
    PUBLIC_BASE_URL: 'https://idv.example.com',
    FINWAVE_BASE_URL: 'https://idgateway.finwave.com/management',
    FINWAVE_CLIENT_TOKEN: 'real-token',
    TEMPORAL_ADDRESS: temporal.address,
    TASK_QUEUE_PREFIX: `ssrf${crypto.randomBytes(3).toString('hex')}`,
    PAYLOAD_KEYS: `prod:${Buffer.alloc(32, 9).toString('base64')}`,
    AUDIT_KEYS: `audit:${Buffer.alloc(32, 8).toString('base64')}`,
  });
  app = await buildApi({ config, client: temporal.client, store: new FolderEvidenceStore(os.tmpdir()), logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await app?.close();
  await temporal?.close();
});

async function register(url: string) {
  const { port } = app.server.address() as AddressInfo;
  const res = await fetch(`http://127.0.0.1:${port}/v1/webhook-endpoints`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url }),
  });
  return { status: res.status, body: (await res.json()) as { error: { code: string; message: string } } };
}

test.each([
  'https://127.0.0.1/hook',
  'https://localhost/hook',
  'https://10.1.2.3/hook',
  'https://172.16.0.1/hook',
  'https://192.168.1.10/hook',
  'https://169.254.169.254/latest/meta-data',
  'https://100.64.0.1/hook',
  'https://0.0.0.0/hook',
  'https://[::1]/hook',
  'https://[fd00::1]/hook',
  'https://[fe80::1]/hook',
  'https://[::ffff:127.0.0.1]/hook',
])('production refuses %s (SSRF)', async (url) => {
  const res = await register(url);
  expect(res.status).toBe(422);
  expect(res.body.error.code).toBe('unsafe_endpoint');
});

test('production refuses plain http', async () => {
  expect(await register('http://example.com/hook')).toMatchObject({
    status: 422,
    body: { error: { code: 'unsafe_endpoint', message: 'endpoints must be https outside development' } },
  });
});

test('public unicast addresses pass, special ranges do not', () => {
  for (const ip of ['8.8.8.8', '93.184.216.34', '2606:4700:4700::1111']) expect(isPublicAddress(ip)).toBe(true);
  for (const ip of [
    '127.0.0.1',
    '10.0.0.1',
    '169.254.1.1',
    '::1',
    'fc00::1',
    '::ffff:10.0.0.1',
    '224.0.0.1',
    'not-an-ip',
  ])
    expect(isPublicAddress(ip)).toBe(false);
});

test('at delivery time: an endpoint that resolves to a private address is not called', async () => {
  const taskQueue = `ssrf-${crypto.randomBytes(4).toString('hex')}`;
  const tenant = `t-${crypto.randomBytes(4).toString('hex')}`;
  const at = new Date().toISOString();
  const secret = `whsec_${crypto.randomBytes(24).toString('base64')}`;
  const endpoints = ['https://127.0.0.1:9/hook', 'https://localhost:9/hook'].map((url, i) => ({
    id: `ep_000000000000000${i}`,
    url,
    description: null,
    eventTypes: [],
    enabled: true,
    disabledReason: null,
    flagged: false,
    secrets: [{ secret, createdAt: at, expiresAt: null }],
    createdAt: at,
    updatedAt: at,
  }));
  const worker = await Worker.create({
    connection: temporal.connection,
    taskQueue,
    ...(await bundleOptions()),
    dataConverter: testDataConverter(),
  });
  await worker.runUntil(async () => {
    await temporal.client.workflow.start(webhookEndpoints, {
      workflowId: endpointRegistryWorkflowId(tenant),
      taskQueue,
      args: [{ tenant, endpoints }],
    });
    const { postNotification } = createNotificationActivities({ production: true, maxInFlightPerEndpoint: 10 });
    const event = {
      id: 'finwave:x:1',
      type: 'verification.created',
      timestamp: at,
      sequence: 1,
      data: {},
    } as unknown as NotificationEvent;
    const env = new MockActivityEnvironment(undefined, { client: temporal.client });
    for (const e of endpoints) {
      const result = await env.run<
        Parameters<typeof postNotification>,
        Awaited<ReturnType<typeof postNotification>>,
        typeof postNotification
      >(postNotification, { tenant, endpointId: e.id, event });
      expect(result.outcome).toBe('retry');
      expect(result.attempt).toMatchObject({ statusCode: null });
      expect(result.attempt!.error).toMatch(/non-public address/);
    }
    await temporal.client.workflow.getHandle(endpointRegistryWorkflowId(tenant)).terminate();
  });
}, 60_000);
