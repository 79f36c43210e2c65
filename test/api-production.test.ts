/** In production, a vendor without settings is refused by the API with a clear 422. */
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../config';
import { buildApi } from '../client/app';
import { FolderEvidenceStore } from '../activities/evidence-store';
import { connectToTestTemporal, type TestTemporal } from './helpers/temporal';

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
    TEMPORAL_ADDRESS: temporal.address,
    FINWAVE_BASE_URL: 'https://idgateway.finwave.com/management',
    FINWAVE_CLIENT_TOKEN: 'real-token',
    PAYLOAD_KEYS: `prod:${Buffer.alloc(32, 9).toString('base64')}`, // production refuses to start without payload keys
    AUDIT_KEYS: `audit:${Buffer.alloc(32, 8).toString('base64')}`, // ... and without audit keys
  });
  app = await buildApi({ config, client: temporal.client, store: new FolderEvidenceStore(os.tmpdir()), logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await app?.close();
  await temporal?.close();
});

test('an unconfigured provider answers 422 provider_not_configured and starts nothing', async () => {
  const { port } = app.server.address() as AddressInfo;
  const res = await fetch(`http://127.0.0.1:${port}/v1/verifications`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      provider: 'namirial',
      reference: 'prod-1',
      applicant: { firstName: 'A', lastName: 'B', email: 'a@example.com' },
    }),
  });
  expect(res.status).toBe(422);
  expect(await res.json()).toEqual({
    error: { code: 'provider_not_configured', message: 'namirial is not configured on this service' },
  });
  await expect(temporal.client.workflow.getHandle('namirial:prod-1').describe()).rejects.toThrow();
});
