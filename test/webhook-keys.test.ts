/**
 * The webhook keyring (WEBHOOK_KEYS): the first key signs, every listed key verifies, tokens name their
 * key. Rotated mid-flow on the real server, each kind of token made before the rotation still works:
 * Finwave's webhook URL token, Authenteq's return state, ID360's sealed api_key link; Fourthline's OAuth
 * bearer tokens and the tokens from the single WEBHOOK_SECRET of before are checked directly.
 *
 * The rotation is done in place on the stack's config (what restarting the API and the worker with
 * `WEBHOOK_KEYS=k2:…,k1:…` gives them), so that the flows started under k1 keep running.
 */
import crypto from 'node:crypto';
import { connectToTestTemporal, type TestTemporal } from './helpers/temporal';
import { control, startStack, type Stack } from './helpers/stack';
import {
  decodeReturnState,
  encodeReturnState,
  verifyWebhookToken,
  webhookToken,
  type WebhookKey,
} from '../config/webhook-token';
import { issueWebhookToken, verifyWebhookBearer } from '../client/webhooks/fourthline';
import { openApiKey, sealApiKey } from '../activities/id360-secrets';
import { loadConfig } from '../config';

const K1: WebhookKey = { id: 'k1', secret: crypto.randomBytes(24).toString('base64url') };
const K2: WebhookKey = { id: 'k2', secret: crypto.randomBytes(24).toString('base64url') };
const LEGACY = 'legacy-webhook-secret-0123456789abcdef';

let temporal: TestTemporal;
let stack: Stack;

beforeAll(async () => {
  temporal = await connectToTestTemporal();
  stack = await startStack({ ...temporal, env: { WEBHOOK_KEYS: `${K1.id}:${K1.secret}` } });
});

afterAll(async () => {
  await stack?.stop();
  await temporal?.close();
});

const ref = (name: string) => `${name}-${crypto.randomBytes(4).toString('hex')}`;

test('config: WEBHOOK_KEYS first key signs; WEBHOOK_SECRET alone, or alongside as a verify-only key', () => {
  expect(loadConfig({ WEBHOOK_KEYS: `k2:${K2.secret},k1:${K1.secret}` }).webhookSecret).toEqual([K2, K1]);
  expect(loadConfig({ WEBHOOK_SECRET: LEGACY }).webhookSecret).toEqual([{ id: '', secret: LEGACY }]);
  expect(loadConfig({ WEBHOOK_KEYS: `k2:${K2.secret}`, WEBHOOK_SECRET: LEGACY }).webhookSecret).toEqual([
    K2,
    { id: '', secret: LEGACY },
  ]);
  expect(() => loadConfig({ WEBHOOK_KEYS: 'k1:short' })).toThrow(
    /^Configuration error: WEBHOOK_KEYS must be a comma list of keyId:secret/,
  );
  expect(() => loadConfig({ WEBHOOK_KEYS: `k1:${K1.secret},k1:${K2.secret}` })).toThrow(/WEBHOOK_KEYS must be/);
});

test('every token names its key; all listed keys verify; a retired key no longer does; tokens of the single secret pass', () => {
  const before = [K1];
  const rotated = [K2, K1];
  const retired = [K2];
  const legacyAlongside = [K2, { id: '', secret: LEGACY }];

  const url = webhookToken(before, 'finwave', 'finwave:a');
  expect(url.startsWith('k1.')).toBe(true);
  expect(verifyWebhookToken(rotated, 'finwave', 'finwave:a', url)).toBe(true);
  expect(verifyWebhookToken(retired, 'finwave', 'finwave:a', url)).toBe(false);
  expect(webhookToken(rotated, 'finwave', 'finwave:a').startsWith('k2.')).toBe(true);
  expect(
    verifyWebhookToken(legacyAlongside, 'finwave', 'finwave:a', webhookToken(LEGACY, 'finwave', 'finwave:a')),
  ).toBe(true);

  const bearer = issueWebhookToken(before);
  expect(verifyWebhookBearer(rotated, bearer)).toBe(true);
  expect(verifyWebhookBearer(retired, bearer)).toBe(false);
  expect(verifyWebhookBearer(legacyAlongside, issueWebhookToken(LEGACY))).toBe(true);

  const state = encodeReturnState(before, 'authenteq', { workflowId: 'authenteq:a', session: 1, returnTo: null });
  expect(decodeReturnState(rotated, 'authenteq', state)).toEqual({
    workflowId: 'authenteq:a',
    session: 1,
    returnTo: null,
    keyId: 'k1',
  });
  expect(decodeReturnState(retired, 'authenteq', state)).toBeNull();

  const sealed = sealApiKey(before, 'id360:a', 'the-api-key');
  expect(openApiKey(rotated, 'id360:a', sealed)).toBe('the-api-key');
  expect(openApiKey(retired, 'id360:a', sealed)).toBeNull();
  expect(openApiKey(legacyAlongside, 'id360:a', sealApiKey(LEGACY, 'id360:a', 'old'))).toBe('old');
});

test('rotated mid-flow, flows started under the old key complete', async () => {
  // Started under k1: Finwave's webhook URL, Authenteq's return state, ID360's sealed link are signed with it.
  const finwave = (await stack.api('POST', '/v1/verifications', { provider: 'finwave', reference: ref('rot') })).body;
  const authenteq = (await stack.api('POST', '/v1/verifications', { provider: 'authenteq', reference: ref('rot') }))
    .body;
  const id360 = (
    await stack.api('POST', '/v1/verifications', {
      provider: 'id360',
      reference: ref('rot'),
      options: { mode: 'browser', returnUrl: 'https://integrator.example/done' },
    })
  ).body;
  expect([finwave.status, authenteq.status, id360.status]).toEqual(['awaiting_user', 'awaiting_user', 'awaiting_user']);
  const authenteqToken = new URL(authenteq.nextAction.url).searchParams.get('token')!;

  // Rotate: k2 signs from now on, k1 still verifies.
  const ring = stack.config.webhookSecret as WebhookKey[];
  ring.unshift(K2);

  expect(
    (
      await control(stack, `/finwave/_sandbox/onboardings/${finwave.providerReference}/finish`, {
        scenario: 'approved',
      })
    ).status,
  ).toBe(200);
  const redirectTo = (await control(stack, `/authenteq/_sandbox/sessions/${authenteqToken}/pass`, {})).body
    .redirectTo as string;
  expect(new URL(redirectTo).searchParams.get('state')).toMatch(/\.k1\.[A-Za-z0-9_-]{43}$/);
  expect((await fetch(redirectTo, { redirect: 'manual' })).status).toBe(200);
  const link = await fetch(id360.nextAction.url.replace(stack.config.publicBaseUrl, stack.apiUrl), {
    redirect: 'manual',
  });
  expect(link.status).toBe(302);

  const done = (s: { status: string }) => s.status === 'completed';
  expect((await stack.waitFor(finwave.id, done, 60_000)).outcome).toBe('approved');
  expect((await stack.waitFor(authenteq.id, done, 60_000)).outcome).toBe('approved');

  // A flow started after the rotation signs with k2.
  const after = (
    await stack.api('POST', '/v1/verifications', {
      provider: 'id360',
      reference: ref('rot'),
      options: { mode: 'browser', returnUrl: 'https://integrator.example/done' },
    })
  ).body;
  expect(after.nextAction.url).toMatch(/\/v2\.k2\.[A-Za-z0-9_-]+$/);
});
