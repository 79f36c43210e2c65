/**
 * Finwave onboarding, end to end on a real Temporal dev server: API -> workflow -> activities ->
 * Finwave sandbox -> webhook receiver -> signal -> workflow, with the evidence store.
 */
import crypto from 'node:crypto';
import { SEARCH_ATTRIBUTES } from '../workflows/shared';
import { taskQueueFor, workflowTaskQueue } from '../config';
import { zipEntryNames } from '../sandboxes/framework/zip';
import { Worker } from '@temporalio/worker';
import { connectToTestTemporal, testDataConverter, type TestTemporal } from './helpers/temporal';
import { control, startStack, bundleOptions, type Stack } from './helpers/stack';

let temporal: TestTemporal;
let stack: Stack;

beforeAll(async () => {
  temporal = await connectToTestTemporal();
  // These dev-server tests prove polling in seconds: below the API's 1-minute floor, allowed in development only.
  stack = await startStack({ ...temporal, env: { MIN_POLL_INTERVAL_MS: '1000' } });
});

afterAll(async () => {
  await stack?.stop();
  await temporal?.close();
});

const ref = (name: string) => `${name}-${crypto.randomBytes(4).toString('hex')}`;

async function create(reference: string, extra: Record<string, unknown> = {}) {
  const res = await stack.api('POST', '/v1/verifications', { provider: 'finwave', reference, ...extra });
  expect([200, 201]).toContain(res.status);
  return res.body;
}

function onboardingOf(v: { providerReference: string | null }): string {
  expect(v.providerReference).toBeTruthy();
  return v.providerReference!;
}

async function history(id: string): Promise<string> {
  return JSON.stringify(await temporal.client.workflow.getHandle(id).fetchHistory());
}

test('happy path: redirect, user finishes, approved, evidence stored by reference only', async () => {
  const reference = ref('happy');
  const created = await stack.api('POST', '/v1/verifications', {
    provider: 'finwave',
    reference,
    options: { acceptations: [{ mandatory: true, text: 'I accept the terms of service' }] },
  });
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({
    id: `finwave:${reference}`,
    provider: 'finwave',
    reference,
    status: 'awaiting_user',
    outcome: null,
    providerStatus: 'CREATED',
  });
  expect(created.body.nextAction.type).toBe('redirect');
  expect(created.body.nextAction.url).toBe(`${stack.sandboxUrl}/finwave/onboarding/${created.body.providerReference}`);

  // The user opens the link and finishes.
  const page = await fetch(created.body.nextAction.url);
  expect(page.status).toBe(200);
  expect(
    await control(stack, `/finwave/_sandbox/onboardings/${onboardingOf(created.body)}/finish`, {
      scenario: 'approved',
    }),
  ).toMatchObject({ status: 200 });

  const done = await stack.waitFor(created.body.id, (s) => s.status === 'completed');
  expect(done.outcome).toBe('approved');
  expect(done.providerStatus).toBe('FINISHED');
  expect(done.facts).toMatchObject({ score: 93, 'step.ocr': true, 'step.biometry': true, errorEvent: null });
  expect(done.nextAction).toEqual({ type: 'none' });

  // Evidence: the ZIP and the raw result are in the store, hashes verify, the ZIP has the documented files.
  const zipRef = done.evidence.find((e) => e.kind === 'finwave-evidence-zip')!;
  const resultRef = done.evidence.find((e) => e.kind === 'finwave-result-json')!;
  expect(zipRef).toBeDefined();
  expect(resultRef).toBeDefined();
  const zipBytes = (await stack.store.get(zipRef.sha256))!;
  expect(crypto.createHash('sha256').update(zipBytes).digest('hex')).toBe(zipRef.sha256);
  expect(zipBytes.length).toBe(zipRef.size);
  const names = zipEntryNames(zipBytes);
  expect(names).toEqual(
    expect.arrayContaining([expect.stringMatching(/-FRONT\.jpg$/), expect.stringMatching(/-SELFIE\.jpg$/)]),
  );
  const rawResult = JSON.parse((await stack.store.get(resultRef.sha256))!.toString());
  expect(rawResult.ocr.fields[0].value).toBe('008390126ZX2');

  // ...and none of it is in workflow history: no document number, no image bytes.
  const h = await history(done.id);
  expect(h).not.toContain('008390126ZX2');
  expect(h).not.toContain(rawResult.ocr.images[0].value);
  expect(h).not.toContain(zipBytes.subarray(0, 64).toString('base64'));

  // The timeline tells the story, and the operator can find it by search attributes.
  const events = done.timeline.map((t) => t.event);
  expect(events[0]).toBe('created');
  expect(events).toContain('onboarding created');
  expect(events).toContain('evidence stored');
  expect(events[events.length - 1]).toBe('completed: approved');
  const desc = await temporal.client.workflow.getHandle(done.id).describe();
  expect(desc.typedSearchAttributes.get(SEARCH_ATTRIBUTES.provider)).toBe('finwave');
  expect(desc.typedSearchAttributes.get(SEARCH_ATTRIBUTES.status)).toBe('completed');
  expect(desc.typedSearchAttributes.get(SEARCH_ATTRIBUTES.outcome)).toBe('approved');
  // The shared workflow queue; every vendor call on Finwave's own activity queue (config/task-queues.ts).
  expect(desc.taskQueue).toBe(workflowTaskQueue(stack.config));
  const { events: historyEvents } = await temporal.client.workflow.getHandle(done.id).fetchHistory();
  const activityQueues = (historyEvents ?? []).flatMap((e) =>
    e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.taskQueue?.name] : [],
  );
  expect(activityQueues.length).toBeGreaterThan(2);
  expect(new Set(activityQueues)).toEqual(new Set([taskQueueFor(stack.config, 'finwave')]));
  // A replay (another queue's name, so the activities' queues it computes differ from the recorded ones)
  // is still deterministic: the layout may change under running flows (docs/changing-workflow-code.md).
  await Worker.runReplayHistory(
    { ...(await bundleOptions()), dataConverter: testDataConverter() },
    { events: historyEvents ?? [] },
    done.id,
  );
});

test('search attributes follow the phases: list Finwave verifications awaiting the user', async () => {
  const v = await create(ref('listing'));
  const query = `WorkflowId = "${v.id}" AND VerificationProvider = "finwave" AND VerificationStatus = "awaiting_user"`;
  let count = 0;
  for (let i = 0; i < 50 && count === 0; i++) {
    count = (await temporal.client.workflow.count(query)).count;
    if (!count) await new Promise((r) => setTimeout(r, 200));
  }
  expect(count).toBe(1);
});

test.each([
  ['low-score', {}, 'score 12 is below the minimum 50'], // the default minimum: the scenario's name means what it says
  ['ocr-failed', {}, 'Finwave reported OCR_RETRIES_EXCEEDED'],
  ['biometry-failed', {}, 'step(s) failed: biometry'],
  ['acceptation-declined', { acceptations: [{ mandatory: true, text: 'terms' }] }, 'step(s) failed: acceptation'],
])('FINISHED with scenario %s is rejected', async (scenario, options, reason) => {
  const v = await create(ref(scenario), { options });
  await control(stack, `/finwave/_sandbox/onboardings/${onboardingOf(v)}/finish`, { scenario });
  const done = await stack.waitFor(v.id, (s) => s.status === 'completed');
  expect(done.outcome).toBe('rejected');
  expect(done.reason).toBe(reason);
  expect(done.evidence.map((e) => e.kind)).toContain('finwave-evidence-zip');
});

test('INCOMPLETED: the user abandons', async () => {
  const v = await create(ref('abandon'));
  await control(stack, `/finwave/_sandbox/onboardings/${onboardingOf(v)}/start`);
  await stack.waitFor(v.id, (s) => s.providerStatus === 'INPROCESS');
  await control(stack, `/finwave/_sandbox/onboardings/${onboardingOf(v)}/abandon`);
  const done = await stack.waitFor(v.id, (s) => s.status !== 'awaiting_user');
  expect(done).toMatchObject({ status: 'failed', outcome: 'abandoned', providerStatus: 'INCOMPLETED' });
  expect(done.reason).toContain('USER_LEAVES_PROCESS');
  expect(done.nextAction.type).toBe('restart');
});

test("TIMEOUT: Finwave's own session clock runs out", async () => {
  stack.sandbox.finwave.sessionTimeoutMs = 1500; // the sandbox's vendor timer, shortened for this case
  try {
    const v = await create(ref('timeout'));
    const done = await stack.waitFor(v.id, (s) => s.status !== 'awaiting_user', 15_000);
    expect(done).toMatchObject({ status: 'expired', outcome: 'expired', providerStatus: 'TIMEOUT' });
    expect(done.reason).toContain('TIME_EXPIRED');
  } finally {
    stack.sandbox.finwave.sessionTimeoutMs = 30 * 60_000;
  }
});

test('test phone numbers play the user by themselves', async () => {
  const v = await create(ref('testnumber'), { applicant: { phoneCountryCode: '+34', phone: '600000001' } });
  const done = await stack.waitFor(v.id, (s) => s.status === 'completed');
  expect(done.outcome).toBe('approved');
  // The phone number went to the vendor, not into the status or search attributes.
  expect(JSON.stringify(done)).not.toContain('600000001');
});

test('webhooks never arrive: the workflow reconciles by polling', async () => {
  await control(stack, '/finwave/_sandbox/settings', { webhooks: 'off' });
  try {
    const v = await create(ref('polling'), { options: { pollInterval: '1s' } });
    await control(stack, `/finwave/_sandbox/onboardings/${onboardingOf(v)}/finish`, { scenario: 'approved' });
    const done = await stack.waitFor(v.id, (s) => s.status === 'completed', 20_000);
    expect(done.outcome).toBe('approved');
    const events = done.timeline.map((t) => t.event);
    expect(events).toContain('result read by polling');
    expect(events).not.toContain('webhook received');
  } finally {
    await control(stack, '/finwave/_sandbox/settings', { webhooks: 'on' });
  }
});

test('duplicated and out-of-order webhooks change nothing once decided', async () => {
  const v = await create(ref('dupes'));
  const ob = onboardingOf(v);
  await control(stack, `/finwave/_sandbox/onboardings/${ob}/start`);
  await stack.waitFor(v.id, (s) => s.providerStatus === 'INPROCESS');
  // A stale CREATED arrives after INPROCESS: the workflow re-reads Finwave and stays in INPROCESS.
  await control(stack, `/finwave/_sandbox/onboardings/${ob}/webhook`, { result: 'CREATED', times: 2 });
  await control(stack, `/finwave/_sandbox/onboardings/${ob}/finish`, { scenario: 'approved' });
  const done = await stack.waitFor(v.id, (s) => s.status === 'completed');
  // Now duplicates of FINISHED and a late INPROCESS.
  await control(stack, `/finwave/_sandbox/onboardings/${ob}/webhook`, { result: 'FINISHED', times: 3 });
  await control(stack, `/finwave/_sandbox/onboardings/${ob}/webhook`, { result: 'INPROCESS' });
  await stack.sandbox.finwave.webhooks.drain();
  const after = (await stack.api('GET', `/v1/verifications/${v.id}`)).body;
  expect(after.status).toBe('completed');
  expect(after.outcome).toBe('approved');
  expect(after.timeline).toEqual(done.timeline);
  expect(after.evidence.filter((e: { kind: string }) => e.kind === 'finwave-evidence-zip')).toHaveLength(1);
  expect(after.timeline.filter((t: { event: string }) => t.event.startsWith('completed'))).toHaveLength(1);
  // Every late webhook was answered 2xx, so Finwave stops retrying.
  const deliveries = stack.sandbox.finwave.webhooks.log.filter((d) => d.tag === ob);
  expect(deliveries.map((d) => d.status)).toEqual(deliveries.map(() => 200));
});

test('a webhook without our token is refused with 401 and never reaches the workflow', async () => {
  const v = await create(ref('unauth'));
  await stack.sandbox.finwave.webhooks.drain(); // let the CREATED webhook land first
  // (The read it prompts notes nothing: the timeline moves on change only, and CREATED is no change.)
  const before = await stack.waitFor(v.id, (s) => s.timeline.some((t) => t.event === 'webhook received'));
  const body = { onboardingId: v.providerReference, customId: v.reference, result: 'FINISHED' };
  const wrong = await stack.api('POST', `/webhooks/finwave/${encodeURIComponent(v.id)}/not-the-token`, body, {
    auth: null,
  });
  expect(wrong.status).toBe(401);
  expect(wrong.body).toEqual({ error: { code: 'unauthorized', message: 'unknown webhook token' } });
  // A token made for another verification does not work either.
  const other = await create(ref('unauth-other'));
  const { webhookToken } = await import('../config/webhook-token');
  const stolen = webhookToken(stack.config.webhookSecret, 'finwave', other.id);
  expect(
    (await stack.api('POST', `/webhooks/finwave/${encodeURIComponent(v.id)}/${stolen}`, body, { auth: null })).status,
  ).toBe(401);
  // With the right token but a malformed body: 400, no signal.
  const token = webhookToken(stack.config.webhookSecret, 'finwave', v.id);
  const bad = await stack.api(
    'POST',
    `/webhooks/finwave/${encodeURIComponent(v.id)}/${token}`,
    { result: 'DONE' },
    { auth: null },
  );
  expect(bad.status).toBe(400);
  await new Promise((r) => setTimeout(r, 500));
  const after = (await stack.api('GET', `/v1/verifications/${v.id}`)).body;
  expect(after.timeline).toEqual(before.timeline);
});

test('vendor 5xx and 429 are retried by Temporal, then the create succeeds', async () => {
  await control(stack, '/finwave/_sandbox/faults', {
    mode: '5xx',
    times: 2,
    method: 'POST',
    path: '/management/integrations',
  });
  await control(stack, '/finwave/_sandbox/faults', {
    mode: '429',
    times: 1,
    method: 'POST',
    path: '/management/integrations',
    retryAfterSeconds: 1,
  });
  const started = Date.now();
  const res = await stack.api('POST', '/v1/verifications', { provider: 'finwave', reference: ref('retry') });
  expect(res.status).toBe(201);
  expect(res.body.status).toBe('awaiting_user');
  const h = JSON.parse(await history(res.body.id));
  const startedEvent = h.events.find((e: any) => e.activityTaskStartedEventAttributes);
  expect(startedEvent.activityTaskStartedEventAttributes.attempt).toBe(4); // 503, 503, 429, then 201
  expect(Date.now() - started).toBeGreaterThanOrEqual(1000); // honoured Retry-After: 1
});

test('a dropped connection and a slow answer are survived', async () => {
  await control(stack, '/finwave/_sandbox/faults', { mode: 'drop', times: 1, path: '/result' });
  await control(stack, '/finwave/_sandbox/faults', { mode: 'slow', times: 1, path: '/evidences', delayMs: 1500 });
  const v = await create(ref('drop'));
  await control(stack, `/finwave/_sandbox/onboardings/${onboardingOf(v)}/finish`, { scenario: 'approved' });
  const done = await stack.waitFor(v.id, (s) => s.status === 'completed');
  expect(done.outcome).toBe('approved');
  const faults = (await (await fetch(`${stack.sandboxUrl}/finwave/_sandbox/faults`)).json()) as {
    injected: { mode: string }[];
  };
  expect(faults.injected.map((f) => f.mode)).toEqual(expect.arrayContaining(['drop', 'slow']));
});

test('a process the user already started answers url null: the flow waits and still completes', async () => {
  const reference = ref('prestarted');
  // Someone (an earlier attempt whose answer was lost) opened this customId and the user started it.
  const pre = await fetch(`${stack.sandboxUrl}/finwave/management/integrations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'gestok-client-token': stack.config.vendors.finwave.clientToken },
    body: JSON.stringify({ customId: reference, webhook: 'http://127.0.0.1:1/lost', lang: 'ENG' }),
  }).then((r) => r.json() as Promise<{ onboardingId: string }>);
  await control(stack, `/finwave/_sandbox/onboardings/${pre.onboardingId}/start`);
  const v = await create(reference, { options: { pollInterval: '1s' } });
  expect(v.providerReference).toBe(pre.onboardingId);
  expect(v.nextAction).toEqual({ type: 'wait', reason: 'the user already started this onboarding' });
  await control(stack, `/finwave/_sandbox/onboardings/${pre.onboardingId}/finish`, { scenario: 'approved' });
  const done = await stack.waitFor(v.id, (s) => s.status === 'completed', 20_000);
  expect(done.outcome).toBe('approved');
});

test('vendor 4xx is a clear, non-retried failure', async () => {
  await control(stack, '/finwave/_sandbox/faults', {
    mode: '4xx',
    times: 1,
    method: 'POST',
    path: '/management/integrations',
    code: 'INVALID_CUSTOM_ID',
  });
  const res = await stack.api('POST', '/v1/verifications', { provider: 'finwave', reference: ref('reject') });
  expect(res.status).toBe(201);
  const done = await stack.waitFor(res.body.id, (s) => s.status === 'failed');
  expect(done.outcome).toBe('error');
  expect(done.reason).toBe('Finwave createIntegration answered 400 (INVALID_CUSTOM_ID)');
  expect(done.facts.failureType).toBe('VendorRequestRejected');
  const h = JSON.parse(await history(done.id));
  const attempts = h.events.filter((e: any) => e.activityTaskStartedEventAttributes);
  expect(attempts).toHaveLength(1);
  expect(attempts[0].activityTaskStartedEventAttributes.attempt).toBe(1);
});

test('idempotent create: the same reference answers 200 with the same verification and one vendor session', async () => {
  const reference = ref('idem');
  const first = await stack.api('POST', '/v1/verifications', { provider: 'finwave', reference });
  const second = await stack.api('POST', '/v1/verifications', { provider: 'finwave', reference });
  expect(first.status).toBe(201);
  expect(second.status).toBe(200);
  expect(second.body.id).toBe(first.body.id);
  expect(second.body.providerReference).toBe(first.body.providerReference);
  const sessions = [...stack.sandbox.finwave.onboardings.values()].filter((o) => o.customId === reference);
  expect(sessions).toHaveLength(1);
  // Also once it has ended.
  await stack.api('POST', `/v1/verifications/${first.body.id}/cancel`, {});
  const third = await stack.api('POST', '/v1/verifications', { provider: 'finwave', reference });
  expect(third.status).toBe(200);
  expect(third.body.status).toBe('cancelled');
});

test('cancel ends the verification; a second cancel is a 409', async () => {
  const v = await create(ref('cancel'));
  const res = await stack.api('POST', `/v1/verifications/${v.id}/cancel`, { reason: 'customer withdrew' });
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ status: 'cancelled', outcome: null, reason: 'customer withdrew' });
  // The workflow closes once its last notification (verification.completed) is handed to its outbox: a workflow task later.
  await temporal.client.workflow.getHandle(v.id).result();
  const desc = await temporal.client.workflow.getHandle(v.id).describe();
  expect(desc.status.name).toBe('COMPLETED');
  expect(desc.typedSearchAttributes.get(SEARCH_ATTRIBUTES.status)).toBe('cancelled');
  const again = await stack.api('POST', `/v1/verifications/${v.id}/cancel`, {});
  expect(again.status).toBe(409);
  expect(again.body.error.code).toBe('conflict');
});

describe('API input', () => {
  test.each([
    [{ provider: 'finwave' }, 'body.reference'],
    [{ provider: 'nope', reference: 'x' }, 'body.provider'],
    [{ provider: 'finwave', reference: 'has spaces' }, 'body.reference'],
    [{ provider: 'finwave', reference: 'a', applicant: { phone: '12' } }, 'body.applicant'],
    [{ provider: 'finwave', reference: 'a', options: { deadline: 'forever' } }, 'body.options.deadline'],
    [{ provider: 'finwave', reference: 'a', surprise: true }, 'body'],
  ])('%j is a 400 naming %s', async (body, where) => {
    const res = await stack.api('POST', '/v1/verifications', body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    expect(res.body.error.message.startsWith(where)).toBe(true);
  });

  test('malformed JSON is a 400, not a 500', async () => {
    const res = await stack.api('POST', '/v1/verifications', undefined, { raw: '{"provider":' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBeDefined();
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.(js|ts):\d+/);
  });

  test('no or wrong API key is a 401', async () => {
    expect((await stack.api('GET', '/v1/verifications/finwave:x', undefined, { auth: null })).status).toBe(401);
    const wrong = await stack.api('GET', '/v1/verifications/finwave:x', undefined, { auth: 'wrong-key-0000000000' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('unauthorized');
  });

  test('unknown or malformed ids are a 404', async () => {
    expect((await stack.api('GET', '/v1/verifications/finwave:never-started')).body.error.code).toBe('not_found');
    expect((await stack.api('GET', '/v1/verifications/finwave:never-started')).status).toBe(404);
    expect((await stack.api('GET', '/v1/verifications/garbage')).status).toBe(404);
    expect((await stack.api('POST', '/v1/verifications/finwave:never-started/cancel', {})).status).toBe(404);
  });

  test('health, readiness and the OpenAPI document', async () => {
    expect((await stack.api('GET', '/healthz', undefined, { auth: null })).status).toBe(200);
    expect((await stack.api('GET', '/readyz', undefined, { auth: null })).body).toEqual({ ready: true });
    const doc = await stack.api('GET', '/openapi.json', undefined, { auth: null });
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/v1/verifications', '/v1/verifications/{id}', '/v1/verifications/{id}/cancel']),
    );
    const page = await fetch(`${stack.apiUrl}/docs`, { redirect: 'follow' });
    expect(page.status).toBe(200);
  });
});

describe('cancel has one meaning: a cancel accepted before the final decision wins', () => {
  test('a cancel that lands while the final result is being read ends the verification cancelled, not approved', async () => {
    const v = await create(ref('cancel-race'));
    // The evidence download (the last step before the decision) answers slowly.
    await control(stack, '/finwave/_sandbox/faults', {
      mode: 'slow',
      times: 1,
      method: 'GET',
      path: '/evidences',
      delayMs: 3000,
    });
    await control(stack, `/finwave/_sandbox/onboardings/${onboardingOf(v)}/finish`, { scenario: 'approved' });
    await stack.waitFor(v.id, (s) => s.status === 'processing', 20_000);
    const cancel = await stack.api('POST', `/v1/verifications/${v.id}/cancel`, { reason: 'customer withdrew' });
    expect(cancel.status).toBe(200);
    const done = await stack.waitFor(v.id, (s) => s.status === 'cancelled', 20_000);
    expect(done).toMatchObject({ outcome: null, reason: 'customer withdrew' });
    expect(done.timeline.map((t) => t.event)).toContain('decision overridden by the cancel');
    expect(done.evidence.map((e) => e.kind)).toContain('finwave-evidence-zip'); // what was gathered is kept
  });

  test('a cancel after the final decision answers 409 naming the final state', async () => {
    const v = await create(ref('cancel-late'));
    await control(stack, `/finwave/_sandbox/onboardings/${onboardingOf(v)}/finish`, { scenario: 'approved' });
    await stack.waitFor(v.id, (s) => s.status === 'completed', 20_000);
    const cancel = await stack.api('POST', `/v1/verifications/${v.id}/cancel`, {});
    expect(cancel.status).toBe(409);
    expect(cancel.body.error).toEqual({
      code: 'conflict',
      message: 'the verification has already ended as completed/approved',
    });
  });
});
