/**
 * ID360 (Docaposte) enrollment, end to end on a real Temporal dev server: API -> workflow -> activities
 * (one shared login session) -> ID360 sandbox -> callbacks with our header -> signal -> workflow, with the
 * evidence store. API mode (our caller uploads through actions) and browser mode (ID360's own pages).
 */
import crypto from 'node:crypto';
import { connectToTestTemporal, type TestTemporal } from './helpers/temporal';
import { control, startStack, type Stack } from './helpers/stack';
import { webhookToken } from '../config/webhook-token';
import { ID360_CALLBACK_HEADER } from '../activities/id360';
import type { Enrollment } from '../sandboxes/id360';

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
const png = () => Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), crypto.randomBytes(300)]);
const jpeg = () => Buffer.concat([Buffer.from('ffd8ffe0', 'hex'), crypto.randomBytes(300)]);
const sandbox = () => stack.sandbox.id360;

async function create(reference: string, extra: Record<string, unknown> = {}) {
  const res = await stack.api('POST', '/v1/verifications', { provider: 'id360', reference, ...extra });
  expect(res.status).toBe(201);
  return res.body;
}

function action(id: string, name: string, body: unknown = {}) {
  return stack.api('POST', `/v1/verifications/${encodeURIComponent(id)}/actions/${name}`, body);
}

const page = (
  n: number,
  total: number,
  bytes: Buffer,
  contentType = bytes[0] === 0x89 ? 'image/png' : 'image/jpeg',
) => ({
  page: n,
  totalPages: total,
  contentType,
  data: bytes.toString('base64'),
});

/** Plays our caller's backend through API mode: consent, a two-page ID, the selfie, finalize. */
async function uploadEverything(id: string, opts: { selfie?: boolean } = {}) {
  const selfie = opts.selfie ?? true;
  expect((await action(id, 'consent', { acceptedCgu: true, acceptedBiometry: selfie })).status).toBe(200);
  expect((await action(id, 'upload-document-page', page(0, 2, png()))).status).toBe(200);
  expect((await action(id, 'upload-document-page', page(1, 2, jpeg()))).status).toBe(200);
  if (selfie)
    expect(
      (await action(id, 'upload-selfie', { contentType: 'image/jpeg', data: jpeg().toString('base64') })).status,
    ).toBe(200);
  const fin = await action(id, 'finalize');
  expect(fin.status).toBe(200);
  expect(fin.body.status).toBe('processing');
}

async function history(id: string): Promise<string> {
  return JSON.stringify(await temporal.client.workflow.getHandle(id).fetchHistory());
}

test('API mode: a two-page ID plus a selfie, to OK, with the report and the PDF stored by reference', async () => {
  const reference = ref('happy');
  const v = await create(reference, {
    applicant: { lastName: 'Dupont', firstName: 'Jean', email: 'jean.dupont@example.com' },
    compare: { name: 'DUPONT', birth_date: '1990-01-01' },
  });
  expect(v).toMatchObject({ id: `id360:${reference}`, provider: 'id360', status: 'awaiting_user', outcome: null });
  expect(v.nextAction).toMatchObject({ type: 'action', action: 'consent' });
  const e = sandbox().find(v.providerReference)!;
  expect(e).toBeDefined();
  // The workflow selected the only route and sent the expected values, locked.
  expect(e.selectedRoute).toBe(sandbox().routeId);
  expect(e.comparisons).toEqual({
    name: { value: 'DUPONT', locked: true },
    birth_date: { value: '1990-01-01', locked: true },
  });
  expect(e.clientReference).toBe(reference);
  expect(e.callbackEndpoints).toHaveLength(1);
  expect(e.callbackEndpoints[0]!.url).toBe(`${stack.config.publicBaseUrl}/webhooks/id360/${encodeURIComponent(v.id)}`);

  // Our caller's backend plays the steps; each answer names the next one.
  const consent = await action(v.id, 'consent', { acceptedCgu: true, acceptedBiometry: true });
  expect(consent.body.nextAction).toMatchObject({ type: 'action', action: 'upload-document-page' });
  const front = png();
  const back = jpeg();
  const selfie = jpeg();
  const p0 = await action(v.id, 'upload-document-page', page(0, 2, front));
  expect(p0.status).toBe(200);
  expect(p0.body.nextAction).toMatchObject({
    action: 'upload-document-page',
    reason: 'upload page 2 of 2 of the identity document',
  });
  const p1 = await action(v.id, 'upload-document-page', page(1, 2, back));
  expect(p1.body.nextAction).toMatchObject({ action: 'upload-selfie' });
  const s = await action(v.id, 'upload-selfie', { contentType: 'image/jpeg', data: selfie.toString('base64') });
  expect(s.body.nextAction).toMatchObject({ action: 'finalize' });
  expect(e.consent).toEqual({ cgu: true, biometry: true });
  expect(e.totalPages).toBe(2);
  expect(e.pages).toEqual({ 0: { format: 'png', size: front.length }, 1: { format: 'jpg', size: back.length } });
  expect(e.selfie).toEqual({ format: 'jpg', size: selfie.length });
  const fin = await action(v.id, 'finalize');
  expect(fin.body).toMatchObject({ status: 'processing', nextAction: { type: 'wait' } });

  const done = await stack.waitFor(v.id, (x) => x.status === 'completed');
  expect(done).toMatchObject({
    outcome: 'approved',
    providerStatus: 'OK',
    reason: 'ID360 verdict OK',
    nextAction: { type: 'none' },
  });
  expect(done.facts).toMatchObject({
    'check.document_authenticity': 'OK',
    'check.face_match': 'OK',
    'check.data_comparison.name': 'OK',
    'check.data_comparison.birth_date': 'OK',
    'step.finalize': 'DONE',
  });

  // Evidence: the pages and the selfie our API stored, the report JSON and the PDF, all by reference.
  const kinds = done.evidence.map((x) => x.kind).sort();
  expect(kinds).toEqual([
    'id360-document-page-0',
    'id360-document-page-1',
    'id360-report-json',
    'id360-report-pdf',
    'id360-selfie',
  ]);
  for (const ev of done.evidence) {
    const bytes = (await stack.store.get(ev.sha256))!;
    expect(crypto.createHash('sha256').update(bytes).digest('hex')).toBe(ev.sha256);
  }
  const report = JSON.parse(
    (await stack.store.get(done.evidence.find((x) => x.kind === 'id360-report-json')!.sha256))!.toString(),
  );
  expect(report.extracted_data.identity[0].document_number).toBe('X4RTBPFW4');
  const pdf = (await stack.store.get(done.evidence.find((x) => x.kind === 'id360-report-pdf')!.sha256))!;
  expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');

  // Nothing secret or binary in workflow history: no api_key, no login token, no image bytes, no extracted data.
  const h = await history(done.id);
  expect(h).not.toContain(e.apiKey);
  for (const token of sandbox().tokens.keys()) expect(h).not.toContain(token);
  expect(h).not.toContain(front.toString('base64').slice(0, 40));
  expect(h).not.toContain(selfie.toString('base64').slice(0, 40));
  expect(h).not.toContain('X4RTBPFW4');

  // Callbacks went to our endpoint with the header we registered, and were all answered 2xx.
  await sandbox().webhooks.drain();
  const deliveries = sandbox().webhooks.log.filter((d) => d.tag === String(e.id));
  expect(deliveries.map((d) => d.event)).toEqual(expect.arrayContaining(['STARTED', 'OK']));
  expect(deliveries.every((d) => d.status === 200)).toBe(true);

  const events = done.timeline.map((t) => t.event);
  expect(events).toEqual(
    expect.arrayContaining([
      'enrollment created',
      'data comparison sent',
      'route selected',
      'consent recorded',
      'document page uploaded',
      'selfie uploaded',
      'enrollment finalized',
      'verdict OK received by callback',
      'report stored',
    ]),
  );
  expect(events[events.length - 1]).toBe('completed: approved');
});

test('KO: the verdict and its reason, with the report still collected', async () => {
  const v = await create(ref('ko'));
  await control(stack, `/id360/_sandbox/enrollments/${v.providerReference}/scenario`, {
    status: 'KO',
    reason: 'MDL_CHALLENGE_NOT_MET',
  });
  await uploadEverything(v.id);
  const done = await stack.waitFor(v.id, (x) => x.status === 'completed');
  expect(done).toMatchObject({
    outcome: 'rejected',
    providerStatus: 'KO',
    reason: 'ID360 verdict KO (MDL_CHALLENGE_NOT_MET)',
  });
  expect(done.facts).toMatchObject({ reason: 'MDL_CHALLENGE_NOT_MET', 'check.face_match': 'KO' });
  expect(done.evidence.map((x) => x.kind)).toEqual(expect.arrayContaining(['id360-report-json', 'id360-report-pdf']));
});

test('KO: a compared value that differs from the document (data comparison)', async () => {
  const v = await create(ref('mismatch'), { compare: { name: 'MARTIN' } });
  await uploadEverything(v.id, { selfie: false });
  const done = await stack.waitFor(v.id, (x) => x.status === 'completed');
  expect(done).toMatchObject({ outcome: 'rejected', reason: 'ID360 verdict KO (VLD_VALIDATION_KO)' });
  expect(done.facts['check.data_comparison.name']).toBe('KO');
  expect(JSON.stringify(done.facts)).not.toContain('MARTIN');
});

test('FAILED: ID360 could not complete the enrollment; no report', async () => {
  const v = await create(ref('failed'));
  await control(stack, `/id360/_sandbox/enrollments/${v.providerReference}/scenario`, { status: 'FAILED' });
  await uploadEverything(v.id);
  const done = await stack.waitFor(v.id, (x) => x.status === 'failed');
  expect(done).toMatchObject({
    outcome: 'error',
    providerStatus: 'FAILED',
    reason: 'ID360 could not complete the enrollment (SEC_DATA_INJECTION)',
  });
  expect(done.nextAction.type).toBe('restart');
  expect(done.evidence.filter((x) => x.kind.startsWith('id360-report'))).toEqual([]);
});

test('CANCELED: the enrollment is canceled before it is finalized', async () => {
  const v = await create(ref('canceled'));
  await action(v.id, 'consent', { acceptedCgu: true, acceptedBiometry: false });
  expect((await control(stack, `/id360/_sandbox/enrollments/${v.providerReference}/cancel`)).status).toBe(200);
  const done = await stack.waitFor(v.id, (x) => x.status !== 'awaiting_user');
  expect(done).toMatchObject({
    status: 'failed',
    outcome: 'abandoned',
    providerStatus: 'CANCELED',
    reason: 'the enrollment was canceled',
  });
  // Later actions are refused: the verification has ended.
  const late = await action(v.id, 'upload-document-page', page(0, 1, png()));
  expect(late.status).toBe(409);
});

test('ID360 ends the enrollment while we still set it up: its status is the outcome, not our refused step', async () => {
  await control(stack, '/id360/_sandbox/faults', {
    mode: 'slow',
    times: 1,
    path: '/enrollment/flow/enrollment_info',
    delayMs: 1500,
  });
  const reference = ref('early-end');
  const creating = stack.api('POST', '/v1/verifications', { provider: 'id360', reference });
  let e: Enrollment | undefined;
  for (let i = 0; i < 100 && !e; i++) {
    e = [...sandbox().enrollments.values()].find((x) => x.clientReference === reference);
    if (!e) await new Promise((r) => setTimeout(r, 20));
  }
  expect((await control(stack, `/id360/_sandbox/enrollments/${e!.id}/cancel`)).status).toBe(200);
  const res = await creating;
  const done = await stack.waitFor(res.body.id, (x) => x.status === 'failed');
  expect(done).toMatchObject({
    outcome: 'abandoned',
    providerStatus: 'CANCELED',
    reason: 'the enrollment was canceled',
  });
});

test("ERL_TIMEOUT: ID360's own clock runs out on an unfinished enrollment", async () => {
  sandbox().enrollmentLifetimeMs = 1500; // the sandbox's vendor timer, shortened for this case
  try {
    const v = await create(ref('erl-timeout'));
    const done = await stack.waitFor(v.id, (x) => x.status !== 'awaiting_user', 15_000);
    expect(done).toMatchObject({ status: 'expired', outcome: 'expired', providerStatus: 'CANCELED' });
    expect(done.reason).toContain('ERL_TIMEOUT');
  } finally {
    sandbox().enrollmentLifetimeMs = 24 * 3_600_000;
  }
});

test('our own deadline: no final status in time, the verification expires', async () => {
  const v = await create(ref('deadline'), { options: { deadline: '3s' } });
  const done = await stack.waitFor(v.id, (x) => x.status === 'expired', 15_000);
  expect(done).toMatchObject({
    outcome: 'expired',
    reason: 'no final status from ID360 within 3s',
    nextAction: { type: 'restart' },
  });
  const late = await action(v.id, 'consent', { acceptedCgu: true, acceptedBiometry: false });
  expect(late.status).toBe(409);
});

test('browser mode: nextAction is our link, which sends the user to ID360 with the api_key kept out of history', async () => {
  const v = await create(ref('browser'), {
    options: { mode: 'browser', returnUrl: 'https://integrator.example/id-done' },
  });
  expect(v.status).toBe('awaiting_user');
  expect(v.nextAction.type).toBe('redirect');
  const e = sandbox().find(v.providerReference)!;
  expect(e.browserCallbackUrl).toBe('https://integrator.example/id-done');
  expect(v.nextAction.url.startsWith(`${stack.config.publicBaseUrl}/go/id360/`)).toBe(true);
  expect(v.nextAction.url).not.toContain(e.apiKey);

  const link = v.nextAction.url.replace(stack.config.publicBaseUrl, stack.apiUrl);
  const res = await fetch(link, { redirect: 'manual' });
  expect(res.status).toBe(302);
  expect(res.headers.get('location')).toBe(
    `${stack.sandboxUrl}/id360/static/process_ui/index.html#/enrollment/${e.apiKey}`,
  );
  expect((await fetch(res.headers.get('location')!)).status).toBe(200);
  // A tampered link does not open; actions are refused in browser mode.
  expect((await fetch(`${link.slice(0, -4)}AAAA`, { redirect: 'manual' })).status).toBe(401);
  expect((await action(v.id, 'consent', { acceptedCgu: true, acceptedBiometry: true })).status).toBe(409);

  // The user does every step in ID360's pages.
  expect((await control(stack, `/id360/_sandbox/enrollments/${e.apiKey}/complete`, { status: 'OK' })).status).toBe(200);
  const done = await stack.waitFor(v.id, (x) => x.status === 'completed');
  expect(done.outcome).toBe('approved');
  expect(await history(v.id)).not.toContain(e.apiKey);
  // Once ended, the link says so instead of sending the user on.
  expect((await fetch(link, { redirect: 'manual' })).status).toBe(410);
});

test('callbacks never arrive: the workflow finds the verdict by polling', async () => {
  await control(stack, '/id360/_sandbox/settings', { callbacks: 'off' });
  try {
    const v = await create(ref('polling'), { options: { pollInterval: '1s' } });
    await uploadEverything(v.id, { selfie: false });
    const done = await stack.waitFor(v.id, (x) => x.status === 'completed', 20_000);
    expect(done.outcome).toBe('approved');
    const events = done.timeline.map((t) => t.event);
    expect(events).toContain('verdict OK received by polling');
    expect(events).not.toContain('callback received');
  } finally {
    await control(stack, '/id360/_sandbox/settings', { callbacks: 'on' });
  }
});

test('a verdict seen by polling before the report is ready: the report download is retried, not failed', async () => {
  await control(stack, '/id360/_sandbox/settings', { callbacks: 'off', reportDelayMs: 2500 });
  try {
    const v = await create(ref('report-late'), { options: { pollInterval: '1s' } });
    await uploadEverything(v.id, { selfie: false });
    const done = await stack.waitFor(v.id, (x) => x.status === 'completed', 30_000);
    expect(done.outcome).toBe('approved');
    expect(done.evidence.map((x) => x.kind)).toEqual(expect.arrayContaining(['id360-report-json', 'id360-report-pdf']));
    const h = JSON.parse(await history(v.id));
    const reportTask = h.events.find(
      (e: any) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'id360FetchReport',
    );
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    const started = h.events.find(
      (e: any) =>
        e.activityTaskStartedEventAttributes &&
        same(e.activityTaskStartedEventAttributes.scheduledEventId, reportTask.eventId),
    );
    expect(started.activityTaskStartedEventAttributes.attempt).toBeGreaterThan(1);
  } finally {
    await control(stack, '/id360/_sandbox/settings', { callbacks: 'on', reportDelayMs: 0 });
  }
});

test('out-of-order and duplicated callbacks: a late STARTED never undoes OK', async () => {
  const v = await create(ref('order'));
  const eid = v.providerReference;
  await control(stack, `/id360/_sandbox/enrollments/${eid}/scenario`, { status: 'OK', lateStarted: true });
  await uploadEverything(v.id);
  const done = await stack.waitFor(v.id, (x) => x.status === 'completed');
  await sandbox().webhooks.drain();
  // The retried STARTED did land after the OK...
  const events = sandbox()
    .webhooks.log.filter((d) => d.tag === String(eid) && d.status === 200)
    .map((d) => d.event);
  expect(events.lastIndexOf('STARTED')).toBeGreaterThan(events.indexOf('OK'));
  // ...and more duplicates now: OK three times, STARTED twice, a stale NEW.
  await control(stack, `/id360/_sandbox/enrollments/${eid}/callbacks`, { status: 'OK', times: 3 });
  await control(stack, `/id360/_sandbox/enrollments/${eid}/callbacks`, { status: 'STARTED', times: 2 });
  await control(stack, `/id360/_sandbox/enrollments/${eid}/callbacks`, { status: 'NEW' });
  await sandbox().webhooks.drain();
  const after = (await stack.api('GET', `/v1/verifications/${v.id}`)).body;
  expect(after).toMatchObject({ status: 'completed', outcome: 'approved', providerStatus: 'OK' });
  expect(after.timeline).toEqual(done.timeline);
  expect(after.evidence.filter((x: { kind: string }) => x.kind === 'id360-report-json')).toHaveLength(1);
  // Every callback was answered 2xx, so ID360 stops retrying.
  const deliveries = sandbox().webhooks.log.filter((d) => d.tag === String(eid));
  expect(deliveries.map((d) => d.status)).toEqual(deliveries.map(() => 200));
});

test('duplicated intermediate callbacks are noted once and move nothing', async () => {
  const v = await create(ref('dup-started'));
  const eid = v.providerReference;
  await control(stack, `/id360/_sandbox/enrollments/${eid}/callbacks`, { status: 'STARTED', times: 3 });
  await sandbox().webhooks.drain();
  const mid = await stack.waitFor(v.id, (x) => x.providerStatus === 'STARTED');
  expect(mid.timeline.filter((t) => t.event === 'callback received')).toHaveLength(1);
  expect(mid.status).toBe('awaiting_user');
});

test('a callback without our header is refused with 401 and never reaches the workflow', async () => {
  const v = await create(ref('unauth'));
  await sandbox().webhooks.drain();
  const before = (await stack.api('GET', `/v1/verifications/${v.id}`)).body;
  const url = `/webhooks/id360/${encodeURIComponent(v.id)}`;
  const body = { id: Number(v.providerReference), status: 'OK', reason: null, client_reference: v.reference };
  const none = await stack.api('POST', url, body, { auth: null });
  expect(none.status).toBe(401);
  expect(none.body.error.code).toBe('unauthorized');
  // A header made for another verification does not work either.
  const other = await create(ref('unauth-other'));
  const post = (headers: Record<string, string>, payload: unknown) =>
    fetch(`${stack.apiUrl}${url}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(payload),
    });
  const stolen = webhookToken(stack.config.webhookSecret, 'id360', other.id);
  expect((await post({ [ID360_CALLBACK_HEADER]: stolen }, body)).status).toBe(401);
  // With the right header but a malformed body: 400, no signal.
  const token = webhookToken(stack.config.webhookSecret, 'id360', v.id);
  expect((await post({ [ID360_CALLBACK_HEADER]: token }, { id: v.providerReference, status: 'DONE' })).status).toBe(
    400,
  );
  await new Promise((r) => setTimeout(r, 500));
  const after = (await stack.api('GET', `/v1/verifications/${v.id}`)).body;
  expect(after.timeline).toEqual(before.timeline);
  expect(after.status).toBe('awaiting_user');
});

test('uploads ID360 rejects come back as a clear 4xx, and the page can be sent again', async () => {
  const v = await create(ref('rejected'));
  await action(v.id, 'consent', { acceptedCgu: true, acceptedBiometry: false });
  // Declared PNG, but the bytes are a GIF: ID360 sniffs the format.
  const gif = Buffer.concat([Buffer.from('GIF89a'), crypto.randomBytes(100)]);
  const wrong = await action(v.id, 'upload-document-page', page(0, 1, gif, 'image/png'));
  expect(wrong.status).toBe(422);
  expect(wrong.body.error).toEqual({
    code: 'vendor_rejected',
    message: 'ID360 refused the step: ID360 uploadDocumentPage answered 400 (UNSUPPORTED_FORMAT)',
  });
  // Over 9.5 MB (our API lets it through; ID360 has the last word on its limit).
  const big = Buffer.concat([Buffer.from('ffd8ffe0', 'hex'), Buffer.alloc(Math.ceil(9.6 * 1024 * 1024))]);
  const tooBig = await action(v.id, 'upload-document-page', page(0, 1, big, 'image/jpeg'));
  expect(tooBig.status).toBe(413);
  expect(tooBig.body.error.message).toContain('FILE_TOO_LARGE');
  // The flow is still waiting for that page; a good one goes through.
  const state = (await stack.api('GET', `/v1/verifications/${v.id}`)).body;
  expect(state).toMatchObject({ status: 'awaiting_user', nextAction: { action: 'upload-document-page' } });
  expect(state.timeline.filter((t: { event: string }) => t.event === 'step refused by ID360')).toHaveLength(2);
  expect((await action(v.id, 'upload-document-page', page(0, 1, png()))).status).toBe(200);
  expect((await action(v.id, 'finalize')).status).toBe(200);
  expect((await stack.waitFor(v.id, (x) => x.status === 'completed')).outcome).toBe('approved');
});

test('actions out of order are refused (409) before anything reaches ID360', async () => {
  const v = await create(ref('order-409'));
  const e = sandbox().find(v.providerReference)!;
  const expect409 = async (name: string, body: unknown, message: string) => {
    const res = await action(v.id, name, body);
    expect(res.status).toBe(409);
    expect(res.body.error).toEqual({ code: 'conflict', message });
  };
  await expect409('upload-document-page', page(0, 2, png()), 'record the consent first');
  await expect409('finalize', {}, 'record the consent first');
  await action(v.id, 'consent', { acceptedCgu: true, acceptedBiometry: false });
  await expect409(
    'upload-selfie',
    { contentType: 'image/jpeg', data: jpeg().toString('base64') },
    'a selfie needs the biometry consent (acceptedBiometry: true)',
  );
  await expect409('consent', { acceptedCgu: true, acceptedBiometry: true }, 'the consent has already been recorded');
  await expect409('finalize', {}, 'upload every page of the identity document first');
  await action(v.id, 'upload-document-page', page(0, 2, png()));
  await expect409('upload-document-page', page(1, 3, png()), 'totalPages was 2 for the pages already uploaded');
  await expect409('finalize', {}, 'upload every page of the identity document first');
  expect(e.selfie).toBeNull();
  expect(e.totalPages).toBe(2);
  expect(Object.keys(e.pages)).toEqual(['0']);
  expect(e.finalized).toBe(false);
  // The same consent again is fine (a retry by our caller).
  expect((await action(v.id, 'consent', { acceptedCgu: true, acceptedBiometry: false })).status).toBe(200);
});

describe('action input', () => {
  let id: string;
  beforeAll(async () => {
    id = (await create(ref('input'))).id;
  });

  test.each([
    ['consent', { acceptedCgu: false, acceptedBiometry: true }, 'body.acceptedCgu'],
    ['consent', { acceptedCgu: true }, 'body.acceptedBiometry'],
    ['upload-document-page', { page: 0, totalPages: 2, contentType: 'image/gif', data: 'AAAA' }, 'body.contentType'],
    ['upload-document-page', { page: 2, totalPages: 2, contentType: 'image/png', data: 'AAAA' }, 'body.page'],
    ['upload-document-page', { page: 0, totalPages: 2, contentType: 'image/png', data: 'not base64!' }, 'body.data'],
    ['upload-selfie', { contentType: 'application/pdf', data: 'AAAA' }, 'body.contentType'],
  ])('%s with %j is a 400 naming %s', async (name, body, where) => {
    const res = await action(id, name, body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    expect(res.body.error.message.startsWith(where)).toBe(true);
  });

  test('unknown verifications, and other vendors, are a 404', async () => {
    expect((await action('id360:never-started', 'finalize')).status).toBe(404);
    expect((await action('finwave:whatever', 'finalize')).status).toBe(404);
  });

  test('browser mode needs the returnUrl', async () => {
    const res = await stack.api('POST', '/v1/verifications', {
      provider: 'id360',
      reference: ref('noreturn'),
      options: { mode: 'browser' },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('options.returnUrl');
  });

  test('the actions are in the OpenAPI document', async () => {
    const doc = await stack.api('GET', '/openapi.json', undefined, { auth: null });
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/v1/verifications/{id}/actions/consent',
        '/v1/verifications/{id}/actions/upload-document-page',
        '/v1/verifications/{id}/actions/upload-selfie',
        '/v1/verifications/{id}/actions/finalize',
        '/webhooks/id360/{id}',
      ]),
    );
  });
});

test('an expired login token: exactly one new login for all the calls that met the 401', async () => {
  await create(ref('warm')); // make sure the session has a token
  const before = { ...sandbox().stats };
  expect((await control(stack, '/id360/_sandbox/tokens/expire')).body.expired).toBeGreaterThan(0);
  const many = await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      stack.api('POST', '/v1/verifications', { provider: 'id360', reference: ref(`relogin-${i}`) }),
    ),
  );
  expect(many.map((r) => r.status)).toEqual(many.map(() => 201));
  expect(many.every((r) => r.body.status === 'awaiting_user')).toBe(true);
  const after = sandbox().stats;
  expect(after.logins - before.logins).toBe(1);
  expect(after.unauthorized - before.unauthorized).toBeGreaterThanOrEqual(1);
});

test('vendor 5xx is retried by Temporal; a 4xx on create ends the verification with a clear reason', async () => {
  await control(stack, '/id360/_sandbox/faults', { mode: '5xx', times: 2, path: '/enrollment/flow/enrollment_info' });
  const ok = await create(ref('retry'));
  expect(ok.nextAction).toMatchObject({ action: 'consent' });
  await control(stack, '/id360/_sandbox/faults', {
    mode: '4xx',
    times: 1,
    path: `/process/`,
    code: 'PROCESS_DISABLED',
  });
  const res = await stack.api('POST', '/v1/verifications', { provider: 'id360', reference: ref('reject') });
  expect(res.status).toBe(201);
  const done = await stack.waitFor(res.body.id, (x) => x.status === 'failed');
  expect(done).toMatchObject({ outcome: 'error', reason: 'ID360 createEnrollment answered 400 (PROCESS_DISABLED)' });
  expect(done.facts.failureType).toBe('VendorRequestRejected');
});
