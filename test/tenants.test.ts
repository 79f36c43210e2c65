/**
 * Tenants and scopes, on the real server: two tenants use the same reference without meeting; another
 * tenant's id answers 404 on every route (evidence, audit, erasure, actions, cancel included); an
 * operator key reads but cannot act; only codec-scoped keys reach the codec; receivers still find a
 * tenant's workflow (the Finwave webhook completes the flow).
 */
import crypto from 'node:crypto';
import { connectToTestTemporal, type TestTemporal } from './helpers/temporal';
import { API_KEY, startStack, type Stack } from './helpers/stack';
import {
  apiVerificationId,
  parseTenantWorkflowId,
  parseVerificationId,
  SEARCH_ATTRIBUTES,
  tenantWorkflowId,
} from '../workflows/shared';
import { loadConfig, parseApiKeys } from '../config';

const ACME = 'acme-token-0123456789abcdef';
const ACME_OPS = 'acme-ops-token-0123456789ab';
const CODEC_ONLY = 'codec-only-token-0123456789';

let temporal: TestTemporal;
let stack: Stack;

beforeAll(async () => {
  temporal = await connectToTestTemporal();
  stack = await startStack({
    ...temporal,
    env: {
      API_KEYS: `tests:${API_KEY},acme:${ACME}:acme:integrator,acme-ops:${ACME_OPS}:acme:operator-read,ui:${CODEC_ONLY}:default:codec`,
    },
  });
});

afterAll(async () => {
  await stack?.stop();
  await temporal?.close();
});

const ref = (name: string) => `${name}-${crypto.randomBytes(4).toString('hex')}`;
const AUTO_PLAY = { applicant: { phoneCountryCode: '+34', phone: '600000001' } };

test('API_KEYS: keyId:token (as before), with a tenant, with scopes; one clear line on error', () => {
  expect(parseApiKeys('a:0123456789abcdef0')).toEqual([
    { id: 'a', token: '0123456789abcdef0', tenant: 'default', scopes: ['integrator', 'codec'] },
  ]);
  expect(parseApiKeys('a:0123456789abcdef0:acme:operator-read+codec')).toEqual([
    { id: 'a', token: '0123456789abcdef0', tenant: 'acme', scopes: ['operator-read', 'codec'] },
  ]);
  expect(() => loadConfig({ API_KEYS: 'a:0123456789abcdef0:acme:admin' })).toThrow(
    'Configuration error: API_KEYS is invalid: has an unknown scope "admin" for key a',
  );
  expect(() => loadConfig({ API_KEYS: 'a:0123456789abcdef0:Acme Corp' })).toThrow(
    /^Configuration error: API_KEYS must be a comma list of keyId:token\[:tenant/,
  );
  expect(loadConfig({}).api.keys).toEqual([
    { id: 'local', token: 'dev-api-key', tenant: 'default', scopes: ['integrator', 'codec'] },
  ]);
});

test('workflow ids per tenant: one helper and its inverse', () => {
  expect(tenantWorkflowId('default', 'finwave:a')).toBe('finwave:a');
  expect(tenantWorkflowId('acme', 'finwave:a')).toBe('acme~finwave:a');
  expect(parseTenantWorkflowId('acme~finwave:a')).toEqual({ tenant: 'acme', id: 'finwave:a' });
  expect(parseTenantWorkflowId('finwave:a')).toEqual({ tenant: 'default', id: 'finwave:a' });
  expect(parseTenantWorkflowId('default~finwave:a')).toBeNull();
  expect(parseVerificationId('acme~finwave:a')).toEqual({ provider: 'finwave', reference: 'a', tenant: 'acme' });
  expect(apiVerificationId('acme~finwave:a')).toBe('finwave:a');
});

test('two tenants use the same reference without meeting; each flow completes through the webhook receiver', async () => {
  const reference = ref('shared');
  const mine = await stack.api('POST', '/v1/verifications', { provider: 'finwave', reference, ...AUTO_PLAY });
  const theirs = await stack.api(
    'POST',
    '/v1/verifications',
    { provider: 'finwave', reference, ...AUTO_PLAY },
    { auth: ACME },
  );
  expect([mine.status, theirs.status]).toEqual([201, 201]);
  expect(theirs.body.id).toBe(`finwave:${reference}`);
  expect(theirs.body.providerReference).not.toBe(mine.body.providerReference);
  // The workflow id carries the tenant, and so does a search attribute.
  const described = await temporal.client.workflow.getHandle(`acme~finwave:${reference}`).describe();
  expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.tenant)).toBe('acme');

  const read = async (auth: string) => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const r = await stack.api('GET', `/v1/verifications/finwave:${reference}`, undefined, { auth });
      if (r.body.status === 'completed' || Date.now() > deadline) return r.body;
      await new Promise((res) => setTimeout(res, 200));
    }
  };
  const [a, b] = await Promise.all([read(API_KEY), read(ACME)]);
  expect([a.status, b.status]).toEqual(['completed', 'completed']);
  expect(b.id).toBe(`finwave:${reference}`);
  expect(b.providerReference).toBe(theirs.body.providerReference);
  expect(a.providerReference).toBe(mine.body.providerReference);
});

test("another tenant's id answers 404 on every route", async () => {
  const id360 = (await stack.api('POST', '/v1/verifications', { provider: 'id360', reference: ref('other') })).body;
  const fourthline = (await stack.api('POST', '/v1/verifications', { provider: 'fourthline', reference: ref('other') }))
    .body;
  const sha = 'a'.repeat(64);
  const calls: [string, string, unknown?][] = [
    ['GET', `/v1/verifications/${id360.id}`],
    ['POST', `/v1/verifications/${id360.id}/cancel`, {}],
    ['GET', `/v1/verifications/${id360.id}/evidence`],
    ['GET', `/v1/verifications/${id360.id}/evidence/${sha}`],
    ['GET', `/v1/verifications/${id360.id}/audit`],
    ['DELETE', `/v1/verifications/${id360.id}/personal-data`],
    ['POST', `/v1/verifications/${id360.id}/actions/consent`, { acceptedCgu: true, acceptedBiometry: false }],
    ['POST', `/v1/verifications/${id360.id}/actions/upload-selfie`, { contentType: 'image/jpeg', data: 'AAAA' }],
    ['POST', `/v1/verifications/${id360.id}/actions/finalize`, {}],
    ['GET', `/v1/verifications/${fourthline.id}/signature`],
    ['GET', `/v1/verifications/${fourthline.id}/consent`],
    ['POST', `/v1/verifications/${fourthline.id}/actions/mobile-number`, { mobileNumber: '+33612345678' }],
    ['POST', `/v1/verifications/${fourthline.id}/actions/approve`, {}],
    // The tenant-qualified workflow id is no way in either.
    ['GET', `/v1/verifications/${encodeURIComponent(`acme~${id360.id}`)}`],
  ];
  const answers: string[] = [];
  for (const [method, url, body] of calls) {
    const r = await stack.api(method, url, body, { auth: ACME });
    answers.push(`${method} ${url} -> ${r.status} ${r.body?.error?.code}`);
  }
  expect(answers).toEqual(calls.map(([m, u]) => `${m} ${u} -> 404 not_found`));
  // Nothing of it happened: the owner still sees the verification running.
  expect((await stack.api('GET', `/v1/verifications/${id360.id}`)).body.status).not.toBe('cancelled');
});

test('an operator key reads its tenant but cannot act; a codec-only key reaches the codec only', async () => {
  const v = (
    await stack.api('POST', '/v1/verifications', { provider: 'finwave', reference: ref('ops') }, { auth: ACME })
  ).body;
  expect((await stack.api('GET', `/v1/verifications/${v.id}`, undefined, { auth: ACME_OPS })).status).toBe(200);
  expect((await stack.api('GET', `/v1/verifications/${v.id}/audit`, undefined, { auth: ACME_OPS })).status).toBe(200);
  const cancel = await stack.api('POST', `/v1/verifications/${v.id}/cancel`, {}, { auth: ACME_OPS });
  expect([cancel.status, cancel.body.error.code]).toEqual([403, 'forbidden']);
  const create = await stack.api(
    'POST',
    '/v1/verifications',
    { provider: 'finwave', reference: ref('ops') },
    { auth: ACME_OPS },
  );
  expect(create.status).toBe(403);
  expect((await stack.api('GET', `/v1/verifications/${v.id}`, undefined, { auth: CODEC_ONLY })).status).toBe(403);

  const codec = (auth: string) =>
    fetch(`${stack.apiUrl}/codec/encode`, {
      method: 'POST',
      headers: { authorization: `Bearer ${auth}`, 'content-type': 'application/json' },
      body: JSON.stringify({ payloads: [] }),
    }).then((r) => r.status);
  expect(await codec(CODEC_ONLY)).toBe(200);
  expect(await codec(ACME)).toBe(401);
  expect(await codec(ACME_OPS)).toBe(401);
});
