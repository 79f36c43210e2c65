/** GET /metrics: Prometheus text with request counts and latency per route template; no ids, no probes. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { FolderEvidenceStore } from '../activities/evidence-store';
import { buildApi } from '../client/app';
import { loadConfig } from '../config';
import { connectToTestTemporal, type TestTemporal } from './helpers/temporal';

let temporal: TestTemporal;
let app: FastifyInstance;
let base: string;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'idv-metrics-'));

beforeAll(async () => {
  temporal = await connectToTestTemporal();
  const config = loadConfig({
    TEMPORAL_ADDRESS: temporal.address,
    API_KEYS: 'backend:backend-key-0123456789',
    EVIDENCE_DIR: dir,
    AUDIT_DIR: path.join(dir, 'audit'),
  });
  app = await buildApi({ config, client: temporal.client, store: new FolderEvidenceStore(dir), logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await app?.close();
  await temporal?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('requests are counted per route template and status, with latency; probes and ids are not in it', async () => {
  const auth = { authorization: 'Bearer backend-key-0123456789' };
  for (let i = 0; i < 2; i++)
    expect((await fetch(`${base}/v1/verifications/finwave:metrics-secret-ref-${i}`, { headers: auth })).status).toBe(
      404,
    );
  expect((await fetch(`${base}/v1/verifications/finwave:x`)).status).toBe(401);
  await fetch(`${base}/readyz`);
  const res = await fetch(`${base}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  const text = await res.text();
  expect(text).toContain('http_requests_total{method="GET",route="/v1/verifications/:id",status="404"} 2');
  expect(text).toContain('http_requests_total{method="GET",route="/v1/verifications/:id",status="401"} 1');
  expect(text).toMatch(
    /http_request_duration_seconds_count\{method="GET",route="\/v1\/verifications\/:id",status="404"\} 2/,
  );
  expect(text).toContain('process_resident_memory_bytes');
  expect(text).not.toContain('readyz');
  expect(text).not.toContain('metrics-secret-ref');
});
