/**
 * Fourthline webhooks authenticated with OAuth client credentials: Fourthline (the sandbox) first
 * gets a bearer token from our token endpoint with the client id/secret we gave it, then sends the
 * webhooks with it. The service is configured with FOURTHLINE_WEBHOOK_AUTH=oauth.
 */
import crypto from 'node:crypto';
import { connectToTestTemporal, type TestTemporal } from './helpers/temporal';
import { startStack, type Stack } from './helpers/stack';
import { fourthlineFlow } from './helpers/fourthline';

const CLIENT_ID = 'fourthline-hooks-test';
const CLIENT_SECRET = `secret-${crypto.randomBytes(12).toString('hex')}`;

let temporal: TestTemporal;
let stack: Stack;

beforeAll(async () => {
  temporal = await connectToTestTemporal();
  stack = await startStack({
    ...temporal,
    env: {
      FOURTHLINE_WEBHOOK_AUTH: 'oauth',
      FOURTHLINE_WEBHOOK_CLIENT_ID: CLIENT_ID,
      FOURTHLINE_WEBHOOK_CLIENT_SECRET: CLIENT_SECRET,
    },
  });
});

afterAll(async () => {
  await stack?.stop();
  await temporal?.close();
});

const ref = (name: string) => `flo-${name}-${crypto.randomBytes(4).toString('hex')}`;

async function token(body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${stack.apiUrl}/webhooks/fourthline/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

test('the whole flow is driven by OAuth-authenticated webhooks (no polling: the interval is 15 minutes)', async () => {
  expect(stack.config.vendors.fourthline.webhookAuth.mode).toBe('oauth');
  const f = fourthlineFlow(stack);
  const v = await f.create(ref('oauth'));
  await f.identity(v.id);
  await f.signUpToApproval(v.id);
  await f.approveAndConfirm(v.id);
  const done = await stack.waitFor(v.id, (s) => s.status === 'completed', 20_000);
  expect(done.outcome).toBe('approved');
  expect(done.timeline.some((t) => t.event === 'case webhook received')).toBe(true);
  const deliveries = stack.sandbox.fourthline.webhooks.log.filter((d) => d.tag === done.providerReference);
  expect(deliveries.length).toBeGreaterThan(0);
  expect(deliveries.filter((d) => d.status === 401)).toHaveLength(0);
});

test('token endpoint: client credentials in HTTP Basic or in the form; wrong ones are 401', async () => {
  const basic = `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`;
  const ok = await token('grant_type=client_credentials', { authorization: basic });
  expect(ok.status).toBe(200);
  expect(ok.body).toMatchObject({ token_type: 'Bearer', expires_in: 600 });
  const form = await token(`grant_type=client_credentials&client_id=${CLIENT_ID}&client_secret=${CLIENT_SECRET}`);
  expect(form.status).toBe(200);
  expect((await token(`grant_type=client_credentials&client_id=${CLIENT_ID}&client_secret=wrong`)).status).toBe(401);
  expect((await token('grant_type=password', { authorization: basic })).status).toBe(400);
});

test('a webhook with a bad bearer (or Basic credentials) is refused with 401 and signals nothing', async () => {
  const f = fourthlineFlow(stack);
  const v = await f.create(ref('oauth-bad'));
  await stack.sandbox.fourthline.drain();
  const count = async () =>
    ((await stack.api('GET', `/v1/verifications/${v.id}`)).body.timeline as { event: string }[]).filter(
      (t) => t.event === 'case webhook received',
    ).length;
  const before = await count();
  const send = (authorization: string) =>
    fetch(`${stack.apiUrl}/webhooks/fourthline/cases/${v.providerReference}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify({ verificationId: v.providerReference, status: 'completed' }),
    });
  expect((await send('Bearer 9999999999.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).status).toBe(
    401,
  );
  expect(
    (await send(`Basic ${Buffer.from('fourthline-webhooks:sandbox-fourthline-webhook-password').toString('base64')}`))
      .status,
  ).toBe(401);
  const good = await token('grant_type=client_credentials', {
    authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
  });
  expect((await send(`Bearer ${String(good.body.access_token)}`)).status).toBe(200);
  await new Promise((r) => setTimeout(r, 300));
  expect(await count()).toBe(before + 1);
});
