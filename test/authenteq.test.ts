/**
 * Authenteq web IDV, end to end on a real Temporal dev server: API -> workflow -> activities ->
 * Authenteq sandbox -> the user's browser back on /return/authenteq -> signal -> code exchange ->
 * evidence store. Plus the workflow's default durations on the time-skipping server.
 */
import crypto from 'node:crypto';
import { Worker } from '@temporalio/worker';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { SEARCH_ATTRIBUTES, stateQuery, type VerificationState } from '../workflows/shared';
import { AUTHENTEQ_DEFAULTS } from '../workflows/authenteq';
import { authenteqInput, authenteqOptions } from '../client/providers/authenteq';
import { encodeReturnState, signState } from '../config/webhook-token';
import { SANDBOX_CREDENTIALS } from '../sandboxes/credentials';
import { redactUrl } from '../client/app';
import { connectToTestTemporal, createTimeSkippingEnv, testDataConverter, type TestTemporal } from './helpers/temporal';
import { control, startStack, bundleOptions, type Stack } from './helpers/stack';

let temporal: TestTemporal;
let stack: Stack;

beforeAll(async () => {
  temporal = await connectToTestTemporal();
  stack = await startStack(temporal);
});

afterAll(async () => {
  await stack?.stop();
  await temporal?.close();
});

const ref = (name: string) => `aq-${name}-${crypto.randomBytes(4).toString('hex')}`;
const SECRET = SANDBOX_CREDENTIALS.authenteq.clientSecret;

async function create(reference: string, options: Record<string, unknown> = {}): Promise<VerificationState> {
  const res = await stack.api('POST', '/v1/verifications', { provider: 'authenteq', reference, options });
  expect(res.status).toBe(201);
  return res.body;
}

function tokenOf(v: VerificationState): string {
  expect(v.nextAction.type).toBe('redirect');
  const url = new URL((v.nextAction as { url: string }).url);
  return url.searchParams.get('token')!;
}

/** The end user, on Authenteq's page: pass, fail or leave. Answers where Authenteq sends the browser. */
async function user(
  v: VerificationState,
  action: 'pass' | 'fail' | 'leave',
  body: Record<string, unknown> = {},
): Promise<string> {
  const res = await control(stack, `/authenteq/_sandbox/sessions/${tokenOf(v)}/${action}`, body);
  expect(res.status).toBe(200);
  return res.body.redirectTo;
}

/** The browser follows Authenteq's redirect to our receiver. */
async function browserTo(url: string): Promise<{ status: number; text: string; location: string | null }> {
  const res = await fetch(url, { redirect: 'manual' });
  return { status: res.status, text: await res.text(), location: res.headers.get('location') };
}

async function history(id: string): Promise<string> {
  return JSON.stringify(await temporal.client.workflow.getHandle(id).fetchHistory());
}

async function searchAttributes(id: string) {
  const d = await temporal.client.workflow.getHandle(id).describe();
  return {
    status: d.typedSearchAttributes.get(SEARCH_ATTRIBUTES.status),
    outcome: d.typedSearchAttributes.get(SEARCH_ATTRIBUTES.outcome),
    attention: d.typedSearchAttributes.get(SEARCH_ATTRIBUTES.attention),
  };
}

const events = (s: VerificationState) => s.timeline.map((t) => t.event);

test('pass: the browser brings a code back, the worker exchanges it once, approved; images only in the evidence store', async () => {
  const reference = ref('pass');
  const v = await create(reference);
  expect(v).toMatchObject({
    id: `authenteq:${reference}`,
    provider: 'authenteq',
    status: 'awaiting_user',
    outcome: null,
  });
  const url = (v.nextAction as { url: string }).url;
  expect(url).toMatch(new RegExp(`^${stack.sandboxUrl}/authenteq/verify\\?token=`));
  expect(url).not.toContain(SECRET);
  expect((await fetch(url)).status).toBe(200); // the user's page

  const redirectTo = await user(v, 'pass');
  // Authenteq sends the browser to our registered redirect URL, with our signed state and its code.
  expect(redirectTo.startsWith(`${stack.config.vendors.authenteq.redirectUrl}?state=`)).toBe(true);
  expect(new URL(redirectTo).searchParams.get('code')).toBeTruthy();
  const page = await browserTo(redirectTo);
  expect(page.status).toBe(200);
  expect(page.text).toContain('You can close this window');
  expect(page.text).not.toMatch(/PASSED|approved/i); // the browser learns nothing about the result here

  const done = await stack.waitFor(v.id, (s) => s.status === 'completed');
  const session = stack.sandbox.authenteq.sessions.get(tokenOf(v))!;
  const result = session.result as any;
  expect(done).toMatchObject({
    outcome: 'approved',
    providerStatus: 'PASSED',
    providerReference: result.id,
    nextAction: { type: 'none' },
  });
  expect(done.reason).toBe('Authenteq verification PASSED (NID/ESP)');
  expect(done.facts).toMatchObject({
    nfcVerified: false,
    documents: 1,
    'document1.type': 'NID',
    'document1.country': 'ESP',
    exchangeAttempts: 1,
    session: 1,
  });
  expect(events(done)).toEqual([
    'created',
    'verification URL issued',
    'returned with a code',
    'code exchange attempted',
    'evidence stored',
    'completed: approved',
  ]);

  // Evidence: the raw result, the liveness face, the document images and the address proof.
  const kinds = done.evidence.map((e) => e.kind).sort();
  expect(kinds).toEqual(
    [
      'authenteq-address-proof',
      'authenteq-document1-back',
      'authenteq-document1-face',
      'authenteq-document1-front',
      'authenteq-liveness-face',
      'authenteq-result-json',
    ].sort(),
  );
  const face = done.evidence.find((e) => e.kind === 'authenteq-liveness-face')!;
  const faceBytes = (await stack.store.get(face.sha256))!;
  expect(faceBytes.equals(Buffer.from(result.livenessFaceImage.content, 'base64'))).toBe(true);
  expect(crypto.createHash('sha256').update(faceBytes).digest('hex')).toBe(face.sha256);
  const proof = done.evidence.find((e) => e.kind === 'authenteq-address-proof')!;
  expect(proof.contentType).toBe('application/pdf');
  const raw = JSON.parse(
    (await stack.store.get(done.evidence.find((e) => e.kind === 'authenteq-result-json')!.sha256))!.toString(),
  );
  expect(raw.documentData.documentNumber).toBe(result.documentData.documentNumber);

  // None of the personal data, images or secrets is in history, the API state or the search attributes.
  const h = await history(done.id);
  for (const leak of [
    result.documentData.documentNumber,
    result.documentData.surname,
    result.documentData.dateOfBirth,
    result.livenessFaceImage.content,
    result.documentData.croppedFrontImage.content,
    result.addressProofDocument.content,
    SECRET,
  ]) {
    expect(h).not.toContain(leak);
    expect(JSON.stringify(done)).not.toContain(leak);
  }
  expect(await searchAttributes(done.id)).toEqual({ status: 'completed', outcome: 'approved' });
  // Exactly one exchange reached Authenteq.
  expect(stack.sandbox.authenteq.exchanges.filter((e) => e.token === session.token).map((e) => e.status)).toEqual([
    200,
  ]);
});

test('fail: FAILED is a rejection', async () => {
  const v = await create(ref('fail'));
  await browserTo(await user(v, 'fail'));
  const done = await stack.waitFor(v.id, (s) => s.status === 'completed');
  expect(done).toMatchObject({
    outcome: 'rejected',
    providerStatus: 'FAILED',
    reason: 'Authenteq verification FAILED (NID/ESP)',
  });
  expect(done.nextAction.type).toBe('restart');
  expect(await searchAttributes(done.id)).toEqual({ status: 'completed', outcome: 'rejected' });
});

test('back without a code: a new session is opened (restart), the old link is then ignored, and the user passes', async () => {
  const v = await create(ref('nocode'));
  const firstUrl = (v.nextAction as { url: string }).url;
  const back = await user(v, 'leave');
  expect(new URL(back).searchParams.has('code')).toBe(false);
  const page = await browserTo(back);
  expect(page.status).toBe(200);
  expect(page.text).toContain('not finished');

  const restarted = await stack.waitFor(v.id, (s) => s.facts.session === 2 && s.nextAction.type === 'redirect');
  expect(restarted.status).toBe('awaiting_user');
  expect((restarted.nextAction as { url: string }).url).not.toBe(firstUrl);
  expect(events(restarted)).toEqual([
    'created',
    'verification URL issued',
    'returned without a code',
    'verification restarted',
  ]);

  // The browser replays the first session's return: the receiver answers the same page, and nothing
  // reaches the workflow (returns are deduplicated before history; the workflow would ignore it anyway).
  expect((await browserTo(back)).text).toContain('not finished');

  await browserTo(await user(restarted, 'pass'));
  const done = await stack.waitFor(v.id, (s) => s.status === 'completed');
  expect(done.outcome).toBe('approved');
  expect(done.facts.session).toBe(2);
  expect(events(done)).not.toContain('return ignored');
});

test('coming back without a code more than maxRestarts times ends as abandoned', async () => {
  let v = await create(ref('abandon'), { maxRestarts: 1 });
  await browserTo(await user(v, 'leave'));
  v = await stack.waitFor(v.id, (s) => s.facts.session === 2 && s.nextAction.type === 'redirect');
  await browserTo(await user(v, 'leave'));
  const done = await stack.waitFor(v.id, (s) => s.status === 'failed');
  expect(done).toMatchObject({
    outcome: 'abandoned',
    reason: 'the user came back from Authenteq without finishing 2 times',
  });
  expect(done.nextAction.type).toBe('restart');
});

test('a replayed return changes nothing: the code is exchanged once, and Authenteq refuses it a second time', async () => {
  await control(stack, '/authenteq/_sandbox/faults', {
    mode: 'slow',
    delayMs: 1500,
    times: 1,
    path: '/web-idv/verification-result',
  });
  const v = await create(ref('replay'));
  const redirectTo = await user(v, 'pass');
  await browserTo(redirectTo);
  await stack.waitFor(v.id, (s) => s.status === 'processing'); // the exchange is under way (slowly)
  await browserTo(redirectTo); // the browser replays the return, code included
  const done = await stack.waitFor(v.id, (s) => s.status === 'completed');
  expect(done.outcome).toBe('approved');
  // The replay never reached the workflow (the receiver deduplicates returns before they reach history).
  expect(done.timeline.filter((t) => t.event === 'return ignored')).toEqual([]);
  expect(done.timeline.filter((t) => t.event === 'code exchange attempted')).toHaveLength(1);
  const token = tokenOf(v);
  expect(stack.sandbox.authenteq.exchanges.filter((e) => e.token === token).map((e) => e.status)).toEqual([200]);

  // After the end, a replay gets the "ended" page and leaves no trace.
  const late = await browserTo(redirectTo);
  expect(late.status).toBe(200);
  expect(late.text).toContain('already ended');
  expect((await stack.api('GET', `/v1/verifications/${v.id}`)).body.timeline).toEqual(done.timeline);

  // Authenteq itself refuses a second exchange of the same code: 400 invalid or expired.
  const u = new URL(`${stack.sandboxUrl}/authenteq/web-idv/verification-result`);
  u.searchParams.set('redirectUrl', redirectTo.replace(/&code=[^&]+$/, ''));
  u.searchParams.set('code', new URL(redirectTo).searchParams.get('code')!);
  const again = await fetch(u, { headers: { authorization: basic() } });
  expect(again.status).toBe(400);
  expect(await again.json()).toEqual({
    errorCode: 'INVALID_REQUEST_PARAMETER',
    errorMessage: "Parameter 'code' is invalid or expired",
  });
});

test('the answer to a successful exchange is lost: the retry finds the code spent, and the operator sees "result lost"', async () => {
  // Authenteq hands out the result (spending the code), then the connection drops before the answer.
  await control(stack, '/authenteq/_sandbox/faults', {
    mode: 'dropAfterHandling',
    times: 1,
    path: '/web-idv/verification-result',
  });
  const v = await create(ref('lost'));
  await browserTo(await user(v, 'pass'));
  const done = await stack.waitFor(v.id, (s) => s.status === 'failed', 30_000);
  expect(done.outcome).toBe('error');
  expect(done.facts).toMatchObject({ exchange: 'lost-after-success', exchangeAttempts: 2 });
  expect(done.reason).toMatch(/^result lost: Authenteq spent the code on an exchange whose answer never reached us/);
  expect(done.reason).toContain('The user may have passed');
  const tail = done.timeline.slice(-7).map((t) => [t.event, t.detail]);
  expect(tail).toEqual([
    ['code exchange attempted', 'attempt 1'],
    ['code exchange unanswered', 'attempt 1: no answer (ECONNRESET)'],
    ['code exchange attempted', 'attempt 2'],
    ['code exchange refused', 'attempt 2: 400 INVALID_REQUEST_PARAMETER:code'],
    ['result lost after exchange', 'attempt 2 was refused the code an earlier, unanswered attempt had spent'],
    ['needs attention', 'the user may have passed: check the Authenteq dashboard before asking them again'],
    ['failed: error', done.reason],
  ]);
  // Distinct from every other error in the Web UI: VerificationAttention = "result-lost-after-exchange".
  expect(done.facts.attention).toBe('result-lost-after-exchange');
  const sa = (await stack.client.workflow.getHandle(v.id).describe()).typedSearchAttributes;
  expect(sa.get(SEARCH_ATTRIBUTES.attention)).toBe('result-lost-after-exchange');
  expect(await searchAttributes(done.id)).toEqual({
    status: 'failed',
    outcome: 'error',
    attention: 'result-lost-after-exchange',
  });
  // What Authenteq saw: a successful exchange (whose answer was lost), then the refused retry.
  expect(stack.sandbox.authenteq.exchanges.filter((e) => e.token === tokenOf(v)).map((e) => e.status)).toEqual([
    200, 400,
  ]);
});

test('an exchange that got a 503 (code not spent) is retried and succeeds', async () => {
  await control(stack, '/authenteq/_sandbox/faults', { mode: '5xx', times: 1, path: '/web-idv/verification-result' });
  const v = await create(ref('retry'));
  await browserTo(await user(v, 'pass'));
  const done = await stack.waitFor(v.id, (s) => s.status === 'completed', 30_000);
  expect(done.outcome).toBe('approved');
  expect(done.facts.exchangeAttempts).toBe(2);
  expect(done.timeline.filter((t) => t.event === 'code exchange unanswered').map((t) => t.detail)).toEqual([
    'attempt 1: answered 503',
  ]);
});

test('a code Authenteq refuses at the first attempt does not end the flow: flagged, it waits for a good return until its deadline', async () => {
  stack.sandbox.authenteq.codeTtlMs = 0; // the code has expired by the time we exchange it
  try {
    const v = await create(ref('expiredcode'), { deadline: '8s' });
    await browserTo(await user(v, 'pass'));
    const flagged = await stack.waitFor(v.id, (s) => s.facts.attention === 'forged-return');
    expect(flagged.status).toBe('awaiting_user');
    expect(flagged.timeline.map((t) => t.event)).toContain('return refused');
    const done = await stack.waitFor(v.id, (s) => s.status === 'expired', 30_000);
    expect(done).toMatchObject({ outcome: 'expired' });
    expect(done.facts).toMatchObject({ attention: 'forged-return', exchangeAttempts: 1 });
    expect((await searchAttributes(v.id)).attention).toBe('forged-return');
  } finally {
    stack.sandbox.authenteq.codeTtlMs = 10 * 60_000;
  }
});

describe('documented errors of the verification URL call end the verification clearly, without retries', () => {
  const account = (body: Record<string, unknown>) => control(stack, '/authenteq/_sandbox/account', body);
  afterEach(async () => {
    await account({
      redirectUrls: [stack.config.vendors.authenteq.redirectUrl],
      deactivated: false,
      clientSecret: SECRET,
    });
    await fetch(`${stack.sandboxUrl}/authenteq/_sandbox/faults`, { method: 'DELETE' });
  });

  test.each([
    ['NO_REDIRECT_URLS', { redirectUrls: [] }, 'answered 400 (NO_REDIRECT_URLS)'],
    [
      'INVALID_REQUEST_PARAMETER',
      { redirectUrls: ['https://elsewhere.example/return'] },
      'answered 400 (INVALID_REQUEST_PARAMETER:redirectUrl)',
    ],
    ['BAD_API_KEYS', { clientSecret: 'rotated-in-the-dashboard' }, 'answered 401 (BAD_API_KEYS)'],
    ['ACCOUNT_DEACTIVATED', { deactivated: true }, 'answered 403 (ACCOUNT_DEACTIVATED)'],
  ])('%s (from the account settings)', async (_code, settings, expected) => {
    await account(settings);
    const res = await stack.api('POST', '/v1/verifications', { provider: 'authenteq', reference: ref('err') });
    expect(res.status).toBe(201);
    const done = await stack.waitFor(res.body.id, (s) => s.status === 'failed');
    expect(done.outcome).toBe('error');
    expect(done.reason).toBe(`Authenteq getVerificationUrl ${expected}`);
    expect(done.facts.failureType).toBe('VendorRequestRejected');
    const h = JSON.parse(await history(done.id));
    const attempts = h.events.filter((e: any) => e.activityTaskStartedEventAttributes);
    expect(attempts.map((e: any) => e.activityTaskStartedEventAttributes.attempt)).toEqual([1]);
  });

  test.each([
    [400, 'MISSING_REQUEST_PARAMETER'],
    [401, 'API_KEYS_MISSING'],
    [401, 'API_KEYS_INVALID'],
  ])('%i %s (requests we never send, injected)', async (status, code) => {
    await control(stack, '/authenteq/_sandbox/faults', {
      mode: '4xx',
      status,
      code,
      times: 1,
      path: '/web-idv/verification-url',
    });
    const res = await stack.api('POST', '/v1/verifications', { provider: 'authenteq', reference: ref('inj') });
    const done = await stack.waitFor(res.body.id, (s) => s.status === 'failed');
    expect(done.reason).toBe(`Authenteq getVerificationUrl answered ${status} (${code})`);
  });
});

function basic(id: string = SANDBOX_CREDENTIALS.authenteq.clientId, secret: string = SECRET): string {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
}

test('the sandbox answers every documented status with its documented body', async () => {
  const base = `${stack.sandboxUrl}/authenteq/web-idv`;
  const redirectUrl = stack.config.vendors.authenteq.redirectUrl;
  const get = async (path: string, params: Record<string, string>, authorization?: string) => {
    const u = new URL(`${base}${path}`);
    for (const [k, val] of Object.entries(params)) u.searchParams.set(k, val);
    const res = await fetch(u, { headers: authorization ? { authorization } : {} });
    return { status: res.status, body: (await res.json()) as any };
  };
  const err = (errorCode: string) => expect.objectContaining({ errorCode, errorMessage: expect.any(String) });

  expect(await get('/verification-url', { redirectUrl })).toEqual({
    status: 401,
    body: { errorCode: 'API_KEYS_MISSING', errorMessage: 'No API Keys in the Authorization header' },
  });
  expect(await get('/verification-url', { redirectUrl }, 'Bearer abc')).toEqual({
    status: 401,
    body: err('API_KEYS_INVALID'),
  });
  expect(await get('/verification-url', { redirectUrl }, basic('x', 'y'))).toEqual({
    status: 401,
    body: { errorCode: 'BAD_API_KEYS', errorMessage: 'Bad API Keys' },
  });
  expect(await get('/verification-url', {}, basic())).toEqual({
    status: 400,
    body: { errorCode: 'MISSING_REQUEST_PARAMETER', errorMessage: "Required 'redirectUrl' parameter is missing" },
  });
  expect(await get('/verification-url', { redirectUrl: 'https://not.registered/x' }, basic())).toEqual({
    status: 400,
    body: {
      errorCode: 'INVALID_REQUEST_PARAMETER',
      errorMessage: "Parameter 'redirectUrl' does not match any registered one",
    },
  });
  await control(stack, '/authenteq/_sandbox/account', { redirectUrls: [] });
  expect(await get('/verification-url', { redirectUrl }, basic())).toEqual({
    status: 400,
    body: err('NO_REDIRECT_URLS'),
  });
  await control(stack, '/authenteq/_sandbox/account', { redirectUrls: [redirectUrl], deactivated: true });
  expect(await get('/verification-url', { redirectUrl }, basic())).toEqual({
    status: 403,
    body: err('ACCOUNT_DEACTIVATED'),
  });
  await control(stack, '/authenteq/_sandbox/account', { deactivated: false });

  // A session with a query string in the (registered) redirect URL, played to the end.
  const withState = `${redirectUrl}?state=abc`;
  const opened = await get('/verification-url', { redirectUrl: withState }, basic());
  expect(opened.status).toBe(200);
  const token = new URL(opened.body.verificationUrl).searchParams.get('token')!;
  const { body } = await control(stack, `/authenteq/_sandbox/sessions/${token}/pass`, {});
  const code = new URL(body.redirectTo).searchParams.get('code')!;
  expect(new URL(body.redirectTo).searchParams.get('state')).toBe('abc');

  expect(await get('/verification-result', { redirectUrl: withState, code })).toEqual({
    status: 401,
    body: err('API_KEYS_MISSING'),
  });
  expect(await get('/verification-result', { redirectUrl: withState, code }, basic('x', 'y'))).toEqual({
    status: 401,
    body: { errorCode: 'API_KEYS_BAD', errorMessage: 'Bad API Keys' },
  });
  expect(await get('/verification-result', { redirectUrl: withState }, basic())).toEqual({
    status: 400,
    body: { errorCode: 'MISSING_REQUEST_PARAMETER', errorMessage: "Required 'code' parameter is missing" },
  });
  expect(await get('/verification-result', { code }, basic())).toEqual({
    status: 400,
    body: { errorCode: 'MISSING_REQUEST_PARAMETER', errorMessage: "Required 'redirectUrl' parameter is missing" },
  });
  expect(await get('/verification-result', { redirectUrl, code }, basic())).toEqual({
    status: 400,
    body: {
      errorCode: 'INVALID_REQUEST_PARAMETER',
      errorMessage: "Parameter 'redirectUrl' does not match the given authorization code",
    },
  });
  const ok = await get('/verification-result', { redirectUrl: withState, code }, basic());
  expect(ok.status).toBe(200);
  expect(ok.body).toMatchObject({
    status: 'PASSED',
    platform: 'WEB',
    nfcVerified: false,
    documentData: { documentType: 'NID', issuingCountry: 'ESP' },
  });
  expect(ok.body.livenessFaceImage).toEqual({ contentType: 'image/jpeg', content: expect.any(String) });
  expect(await get('/verification-result', { redirectUrl: withState, code }, basic())).toEqual({
    status: 400,
    body: { errorCode: 'INVALID_REQUEST_PARAMETER', errorMessage: "Parameter 'code' is invalid or expired" },
  });
});

test('multi-document flow with a flow slug: documentData2 and documentData3 become facts and evidence', async () => {
  const v = await create(ref('multi'), { multiDocument: true, flowSlug: 'kyc-plus' });
  const session = stack.sandbox.authenteq.sessions.get(tokenOf(v))!;
  expect(session).toMatchObject({ multiDocument: true, flowSlug: 'kyc-plus' }); // AQ-Multi-Document-Flow: On, AQ-Flow-Slug
  await browserTo(await user(v, 'pass', { documents: 3, nfcVerified: true }));
  const done = await stack.waitFor(v.id, (s) => s.status === 'completed');
  expect(done.outcome).toBe('approved');
  expect(done.reason).toBe('Authenteq verification PASSED (NID/ESP, DL/USA, PP/DEU, NFC verified)');
  expect(done.facts).toMatchObject({
    nfcVerified: true,
    documents: 3,
    'document1.type': 'NID',
    'document2.type': 'DL',
    'document2.country': 'USA',
    'document3.type': 'PP',
    'document3.country': 'DEU',
  });
  const kinds = done.evidence.map((e) => e.kind);
  expect(kinds).toEqual(
    expect.arrayContaining([
      'authenteq-document2-front',
      'authenteq-document2-back',
      'authenteq-document3-front',
      'authenteq-document3-face',
    ]),
  );
  expect(kinds).not.toContain('authenteq-document3-back'); // a passport has no back image
  const h = await history(done.id);
  expect(h).not.toContain((session.result as any).documentData2.documentNumber);
  expect(h).not.toContain((session.result as any).documentData2.address);
});

test('the return receiver refuses a forged or altered state; nothing reaches the workflow', async () => {
  const v = await create(ref('forged'));
  const redirect = stack.config.vendors.authenteq.redirectUrl;
  const secret = stack.config.webhookSecret;
  const good = encodeReturnState(secret, 'authenteq', { workflowId: v.id, session: 1, returnTo: null });
  const cases = [
    `${redirect}?code=abc`, // no state
    `${redirect}?state=garbage&code=abc`,
    `${redirect}?state=${good.slice(0, -2)}xx&code=abc`, // altered signature
    `${redirect}?state=${encodeReturnState('another-secret-another-secret-123', 'authenteq', { workflowId: v.id, session: 1, returnTo: null })}&code=abc`,
    `${redirect}?state=${encodeReturnState(secret, 'namirial', { workflowId: v.id, session: 1, returnTo: null })}&code=abc`, // made for another receiver
    `${redirect}?state=${signState(secret, 'authenteq', 'not json')}&code=abc`,
  ];
  for (const url of cases) {
    const page = await browserTo(url);
    expect(page.status).toBe(401);
    expect(page.text).toContain('This link is not valid');
  }
  // A well-signed state with something that is no code: refused too.
  expect((await browserTo(`${redirect}?state=${good}&code=${encodeURIComponent('<script>')}`)).status).toBe(400);
  await new Promise((r) => setTimeout(r, 300));
  const after = (await stack.api('GET', `/v1/verifications/${v.id}`)).body;
  expect(after.status).toBe('awaiting_user');
  expect(events(after)).toEqual(['created', 'verification URL issued']);
});

test("returnTo: the browser is sent on to the integrator's page, with nothing added", async () => {
  const returnTo = 'https://integrator.example/kyc/done?case=42';
  const v = await create(ref('returnto'), { returnTo });
  const page = await browserTo(await user(v, 'pass'));
  expect(page.status).toBe(303);
  expect(page.location).toBe(returnTo);
  expect((await stack.waitFor(v.id, (s) => s.status === 'completed')).outcome).toBe('approved');
});

test('nobody comes back before the deadline: expired', async () => {
  const v = await create(ref('deadline'), { deadline: '2s' });
  const done = await stack.waitFor(v.id, (s) => s.status === 'expired', 15_000);
  expect(done).toMatchObject({ outcome: 'expired', reason: 'the user did not come back from Authenteq within 2s' });
  expect(await searchAttributes(done.id)).toEqual({ status: 'expired', outcome: 'expired' });
});

test('request logs never carry the state or the code of a browser return', () => {
  expect(redactUrl('/return/authenteq?state=abc.def&code=one-time')).toBe('/return/authenteq/…');
  expect(redactUrl('/return/namirial/abc.def?verifidResult=success')).toBe('/return/namirial/…');
  expect(redactUrl('/v1/verifications/authenteq:x')).toBe('/v1/verifications/authenteq:x');
});

test('API input: options are validated and named', async () => {
  for (const [body, where] of [
    [{ provider: 'authenteq', reference: 'a', options: { flowSlug: 'has spaces' } }, 'body.options.flowSlug'],
    [{ provider: 'authenteq', reference: 'a', options: { returnTo: 'javascript:alert(1)' } }, 'body.options.returnTo'],
    [{ provider: 'authenteq', reference: 'a', options: { maxRestarts: 99 } }, 'body.options.maxRestarts'],
    [{ provider: 'authenteq', reference: 'a', applicant: { name: 'x' } }, 'body'],
  ] as const) {
    const res = await stack.api('POST', '/v1/verifications', body);
    expect(res.status).toBe(400);
    expect(res.body.error.message.startsWith(where)).toBe(true);
  }
});

describe('default durations (time-skipping server)', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await createTimeSkippingEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  async function run(
    activities: Record<string, (...args: any[]) => Promise<unknown>>,
    body: (id: string) => Promise<void>,
  ) {
    const taskQueue = `aq-ts-${crypto.randomBytes(4).toString('hex')}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      ...(await bundleOptions()),
      activities,
      dataConverter: testDataConverter(),
    });
    const id = `authenteq:${ref('ts')}`;
    await worker.runUntil(async () => {
      await env.client.workflow.start('authenteqVerification', {
        workflowId: id,
        taskQueue,
        args: [authenteqInput(id, id.split(':')[1]!, authenteqOptions.parse({}))],
      });
      await body(id);
    });
  }

  test('the API defaults are the documented ones', () => {
    const input = authenteqInput('authenteq:x', 'x', authenteqOptions.parse({}));
    expect(input.options).toEqual({
      multiDocument: false,
      flowSlug: null,
      returnTo: null,
      deadline: '24 hours',
      maxRestarts: 3,
      exchangeAttempts: 5,
    });
    expect(AUTHENTEQ_DEFAULTS).toEqual({ deadline: '24 hours', maxRestarts: 3, exchangeAttempts: 5 });
  });

  test('the user has 24 hours to come back', async () => {
    const activities = {
      authenteqGetVerificationUrl: async () => ({ verificationUrl: 'https://web-idv.example/verify?token=t' }),
    };
    await run(activities, async (id) => {
      const handle = env.client.workflow.getHandle(id);
      await env.sleep('23 hours');
      expect((await handle.query(stateQuery)).status).toBe('awaiting_user');
      const done = (await handle.result()) as VerificationState;
      expect(done).toMatchObject({
        status: 'expired',
        outcome: 'expired',
        reason: 'the user did not come back from Authenteq within 24 hours',
      });
      const ms = Date.parse(done.updatedAt) - Date.parse(done.createdAt);
      expect(ms).toBeGreaterThanOrEqual(24 * 3_600_000);
      expect(ms).toBeLessThan(24 * 3_600_000 + 60_000);
    });
  });

  test('an exchange that never gets an answer is tried 5 times with backoff, then ends as unanswered', async () => {
    const seen: number[] = [];
    const activities = {
      authenteqGetVerificationUrl: async () => ({ verificationUrl: 'https://web-idv.example/verify?token=t' }),
      authenteqExchangeCode: async () => {
        seen.push(Date.now());
        throw ApplicationFailure.retryable('Authenteq getResult: no response (ETIMEDOUT)', 'VendorUnavailable', {
          networkError: 'ETIMEDOUT',
        });
      },
    };
    await run(activities, async (id) => {
      const handle = env.client.workflow.getHandle(id);
      // The browser can only come back once the user was sent away: a return for a session that is
      // not open yet is ignored as stale, so wait for it.
      for (let i = 0; i < 100 && (await handle.query(stateQuery)).status !== 'awaiting_user'; i++)
        await new Promise((r) => setTimeout(r, 50));
      await handle.signal('authenteqReturn', { session: 1, code: 'the-code' });
      const done = (await handle.result()) as VerificationState;
      expect(done).toMatchObject({
        status: 'failed',
        outcome: 'error',
        reason: 'Authenteq did not answer the code exchange in 5 attempts',
      });
      expect(done.facts).toMatchObject({ exchange: 'unanswered', exchangeAttempts: 5 });
      expect(done.timeline.filter((t) => t.event === 'code exchange unanswered').map((t) => t.detail)).toEqual(
        [1, 2, 3, 4, 5].map((n) => `attempt ${n}: no answer (ETIMEDOUT)`),
      );
      // Waits of 2, 4, 8 and 16 seconds between the attempts (workflow time).
      const at = done.timeline.filter((t) => t.event === 'code exchange attempted').map((t) => Date.parse(t.at));
      expect(at.slice(1).map((t, i) => Math.round((t - at[i]!) / 1000))).toEqual([2, 4, 8, 16]);
    });
    expect(seen).toHaveLength(5);
  });
});

test('a forged code before the genuine return: the flow ends approved, flagged forged-return', async () => {
  const v = await create(ref('forgedcode'));
  const redirectTo = await user(v, 'pass');
  const forged = new URL(redirectTo);
  forged.searchParams.set('code', 'BOGUS');
  expect((await browserTo(forged.toString())).status).toBe(200);
  await stack.waitFor(v.id, (s) => s.facts.attention === 'forged-return');
  expect((await browserTo(redirectTo)).status).toBe(200); // the user's genuine redirect
  const done = await stack.waitFor(v.id, (s) => s.status === 'completed');
  expect(done.outcome).toBe('approved');
  expect(done.facts.attention).toBe('forged-return');
  expect((await searchAttributes(v.id)).attention).toBe('forged-return');
});

test('10,000 replays of a return URL add no more than a handful of history events', async () => {
  const v = await create(ref('replays'));
  const leave = await user(v, 'leave'); // a return without a code: the flow restarts once and waits again
  await browserTo(leave);
  await stack.waitFor(v.id, (s) => s.facts.session === 2);
  const before = (await temporal.client.workflow.getHandle(v.id).fetchHistory()).events!.length;
  const N = 10_000;
  const started = Date.now();
  let sent = 0;
  // Bounded: N requests, 10 at a time, at most 3 minutes, loopback only.
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      while (sent < N && Date.now() - started < 180_000) {
        sent++;
        const r = await fetch(leave, { redirect: 'manual' });
        await r.arrayBuffer();
        if (r.status >= 500) throw new Error(`replay answered ${r.status}`);
      }
    }),
  );
  expect(sent).toBeGreaterThanOrEqual(N);
  const after = (await temporal.client.workflow.getHandle(v.id).fetchHistory()).events!.length;
  expect(after - before).toBeLessThanOrEqual(5);
}, 240_000);
