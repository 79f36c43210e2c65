/**
 * Time bounds without a worker, on the real server: the API's task queues have no worker at all.
 * A create is recorded and answers 202 with nextAction `wait` (the flow starts when a worker is back);
 * actions and cancel answer 503 `temporarily_unavailable` with Retry-After; never a hang, never a 500.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../config';
import { buildApi } from '../client/app';
import { FolderEvidenceStore } from '../activities/evidence-store';
import { freePort } from '../temporal-dev/dev-server';
import { CREATE_BUSY_WORKER_WAIT_MS, CREATE_WORKER_WAIT_MS, RETRY_AFTER_SECONDS } from '../client/deadlines';
import { connectToTestTemporal, type TestTemporal } from './helpers/temporal';

const KEY = 'no-worker-key-0123456789abcdef';
let temporal: TestTemporal;
let app: FastifyInstance;
let url: string;
let dir: string;

beforeAll(async () => {
  temporal = await connectToTestTemporal();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'idv-noworker-'));
  const port = await freePort();
  const config = loadConfig({
    TEMPORAL_ADDRESS: temporal.address,
    API_PORT: String(port),
    API_KEYS: `tests:${KEY}`,
    EVIDENCE_DIR: dir,
    AUDIT_DIR: path.join(dir, 'audit'),
    // Nobody polls these task queues.
    TASK_QUEUE_PREFIX: `nobody${crypto.randomBytes(4).toString('hex')}`,
    LOG_LEVEL: 'warn',
  });
  app = await buildApi({ config, client: temporal.client, store: new FolderEvidenceStore(dir), logger: false });
  await app.listen({ host: '127.0.0.1', port });
  url = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await app?.close();
  await temporal?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function call(method: string, p: string, body?: unknown) {
  const started = Date.now();
  const res = await fetch(`${url}${p}`, {
    method,
    headers: { authorization: `Bearer ${KEY}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  return {
    status: res.status,
    body: (await res.json()) as any,
    retryAfter: res.headers.get('retry-after'),
    ms: Date.now() - started,
  };
}

test('create answers 202 with nextAction wait after the 3 s no-worker wait; a repeat too; the flow is recorded', async () => {
  const reference = `nw-${crypto.randomBytes(4).toString('hex')}`;
  const r = await call('POST', '/v1/verifications', { provider: 'finwave', reference });
  expect(r.status).toBe(202);
  expect(r.body).toMatchObject({ id: `finwave:${reference}`, status: 'created', nextAction: { type: 'wait' } });
  expect(r.ms).toBeGreaterThanOrEqual(CREATE_WORKER_WAIT_MS - 100);
  // The no-poller path (3 s), not the busy-worker wait (15 s) nor the deadline (25 s); a loaded CI
  // machine added 3.25 s of overhead once, hence not a tighter bound.
  expect(r.ms).toBeLessThan(CREATE_BUSY_WORKER_WAIT_MS - 5_000);
  const again = await call('POST', '/v1/verifications', { provider: 'finwave', reference });
  expect(again.status).toBe(202);
  const described = await temporal.client.workflow.getHandle(`finwave:${reference}`).describe();
  expect(described.status.name).toBe('RUNNING');
  await temporal.client.workflow.getHandle(`finwave:${reference}`).terminate('test cleanup');
});

test('cancel and actions answer 503 temporarily_unavailable with Retry-After, within their deadline', async () => {
  const reference = `nw-${crypto.randomBytes(4).toString('hex')}`;
  expect((await call('POST', '/v1/verifications', { provider: 'id360', reference })).status).toBe(202);
  for (const [p, body] of [
    [`/v1/verifications/id360:${reference}/cancel`, undefined],
    [`/v1/verifications/id360:${reference}/actions/finalize`, {}],
  ] as const) {
    const r = await call('POST', p, body);
    expect({ status: r.status, code: r.body.error?.code, retryAfter: r.retryAfter }).toEqual({
      status: 503,
      code: 'temporarily_unavailable',
      retryAfter: String(RETRY_AFTER_SECONDS),
    });
    expect(r.ms).toBeLessThan(25_000);
  }
  await temporal.client.workflow.getHandle(`id360:${reference}`).terminate('test cleanup');
});

describe('rate limits and security headers (an API with small limits)', () => {
  let small: FastifyInstance;
  let smallUrl: string;
  const OTHER = 'other-key-0123456789abcdef';
  beforeAll(async () => {
    const port = await freePort();
    const config = loadConfig({
      TEMPORAL_ADDRESS: temporal.address,
      API_PORT: String(port),
      API_KEYS: `tests:${KEY},other:${OTHER}`,
      EVIDENCE_DIR: dir,
      AUDIT_DIR: path.join(dir, 'audit'),
      TASK_QUEUE_PREFIX: `nobody${crypto.randomBytes(4).toString('hex')}`,
      API_RATE_LIMIT_PER_KEY: '5',
      API_RATE_LIMIT_PER_ADDRESS: '5',
    });
    small = await buildApi({ config, client: temporal.client, store: new FolderEvidenceStore(dir), logger: false });
    await small.listen({ host: '127.0.0.1', port });
    smallUrl = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await small?.close();
  });

  const get = (p: string, key?: string) =>
    fetch(`${smallUrl}${p}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });

  test('per API key on /v1: the 6th request in a minute answers 429 with Retry-After, in our shape; another key is not limited', async () => {
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 6; i++) {
      last = await get('/v1/verifications/finwave:none', KEY);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([404, 404, 404, 404, 404, 429]);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await last!.json()) as any).error.code).toBe('rate_limited');
    expect((await get('/v1/verifications/finwave:none', OTHER)).status).toBe(404);
  });

  test('per source address on the browser returns; their HTML pages carry security headers', async () => {
    const first = await get('/return/authenteq?state=forged');
    expect(first.status).toBe(401);
    expect(first.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(first.headers.get('x-content-type-options')).toBe('nosniff');
    expect(first.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(first.headers.get('strict-transport-security')).toBeTruthy();
    const statuses = [first.status];
    for (let i = 0; i < 5; i++) statuses.push((await get('/return/authenteq?state=forged')).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
  });
});
