/**
 * Namirial VerifID enrollment, end to end on a real Temporal dev server: API -> workflow ->
 * activities -> VerifID sandbox -> the user's browser back on /return/namirial/<state> -> signal ->
 * the workflow reads the enrollment from Namirial and decides. Plus the default durations on the
 * time-skipping server.
 */
import crypto from 'node:crypto';
import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { SEARCH_ATTRIBUTES, stateQuery, type VerificationState } from '../workflows/shared';
import { NAMIRIAL_DEFAULTS } from '../workflows/namirial';
import { NAMIRIAL_ERROR_CODES } from '../workflows/namirial-outcome';
import { namirialInput, namirialOptions } from '../client/providers/namirial';
import { encodeReturnState } from '../config/webhook-token';
import { SANDBOX_CREDENTIALS } from '../sandboxes/credentials';
import { connectToTestTemporal, createTimeSkippingEnv, testDataConverter, type TestTemporal } from './helpers/temporal';
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

const ref = (name: string) => `nm-${name}-${crypto.randomBytes(4).toString('hex')}`;

/** Distinct per test, so that a leak can be searched for. */
function applicant() {
  const tag = crypto.randomBytes(3).toString('hex');
  return { firstName: `Giulia${tag}`, lastName: `Rossi${tag}`, email: `giulia.${tag}@example.it` };
}

async function create(
  reference: string,
  extra: { applicant?: Record<string, unknown>; options?: Record<string, unknown> } = {},
): Promise<VerificationState> {
  const res = await stack.api('POST', '/v1/verifications', {
    provider: 'namirial',
    reference,
    applicant: extra.applicant ?? applicant(),
    options: extra.options ?? {},
  });
  expect(res.status).toBe(201);
  return res.body;
}

const enrollmentOf = (v: VerificationState) => v.providerReference!;

/** The end user finishes at Namirial; answers where the browser is sent. */
async function finish(v: VerificationState, result: string): Promise<string> {
  const res = await control(stack, `/namirial/_sandbox/enrollments/${enrollmentOf(v)}/finish`, { result });
  expect(res.status).toBe(200);
  return res.body.returnTo;
}

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
    raw: JSON.stringify(d.typedSearchAttributes),
    status: d.typedSearchAttributes.get(SEARCH_ATTRIBUTES.status),
    outcome: d.typedSearchAttributes.get(SEARCH_ATTRIBUTES.outcome),
  };
}

const events = (s: VerificationState) => s.timeline.map((t) => t.event);

test('success: EnrollUrl as nextAction, the browser comes back, Namirial confirms, approved', async () => {
  const who = applicant();
  const reference = ref('ok');
  const v = await create(reference, { applicant: who });
  expect(v).toMatchObject({
    id: `namirial:${reference}`,
    status: 'awaiting_user',
    providerStatus: 'New',
    outcome: null,
  });
  const enrollment = stack.sandbox.namirial.get(enrollmentOf(v))!;
  expect(v.nextAction).toEqual({
    type: 'redirect',
    url: `${stack.sandboxUrl}/namirial/enrollment/start/${enrollment.Id}`,
  });
  // What Namirial received: the applicant, our profile, and a ReturnUrl with the signed state in its path.
  expect(enrollment).toMatchObject({
    Name: who.firstName,
    LastName: who.lastName,
    Email: who.email,
    Language: 'it',
    Consumer: 'sandbox',
  });
  expect(enrollment.ReturnUrl).toMatch(
    new RegExp(`^${stack.config.publicBaseUrl}/return/namirial/[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{43}$`),
  );

  expect((await fetch((v.nextAction as { url: string }).url)).status).toBe(200); // the user opens EnrollUrl
  const returnTo = await finish(v, 'success');
  expect(returnTo).toBe(`${enrollment.ReturnUrl}?verifidResult=success`);
  const page = await browserTo(returnTo);
  expect(page.status).toBe(200);
  expect(page.text).toContain('You can close this window');
  expect(page.text).not.toMatch(/success|approved/i);

  const done = await stack.waitFor(v.id, (s) => s.status === 'completed');
  expect(done).toMatchObject({
    outcome: 'approved',
    providerStatus: 'Completed',
    providerReference: enrollment.Id,
    reason: 'Namirial completed the enrollment with outcome Success',
    nextAction: { type: 'none' },
  });
  expect(done.facts).toEqual({
    kinds: 'Email',
    identityProvider: 'bit4id',
    browserSaid: 'Success',
    namirialState: 'Completed',
    namirialOutcome: 'Success',
    returnMismatch: false,
    vendorSaid: 'Success',
  });
  expect(events(done)).toEqual([
    'created',
    'enrollment created',
    'browser returned',
    'enrollment read after the return',
    'completed: approved',
  ]);

  // The final resource is evidence; it holds the personal data, which stays out of history and state.
  const ev = done.evidence.find((e) => e.kind === 'namirial-enrollment-json')!;
  const stored = JSON.parse((await stack.store.get(ev.sha256))!.toString());
  expect(stored).toMatchObject({
    Id: enrollment.Id,
    State: 'Completed',
    Email: who.email,
    DocumentNumber: enrollment.DocumentNumber,
  });
  const state = JSON.stringify(done);
  const sa = await searchAttributes(done.id);
  for (const pii of [who.firstName, who.lastName, who.email, enrollment.DocumentNumber!]) {
    expect(state).not.toContain(pii);
    expect(sa.raw).not.toContain(pii);
  }
  // History: the applicant went to Namirial through the activity input (to be encrypted by the codec), but
  // nothing Namirial answered about the person came back into it.
  const h = await history(done.id);
  expect(h).not.toContain(enrollment.DocumentNumber!);
  expect(sa.status).toBe('completed');
  expect(sa.outcome).toBe('approved');
});

const EXPECTED: Record<string, { status: string; outcome: string; reason: string }> = {
  NotSupportedDocument: {
    status: 'completed',
    outcome: 'rejected',
    reason: 'the identity document the user provided is not supported (NotSupportedDocument)',
  },
  RequestAlteredInfo: {
    status: 'completed',
    outcome: 'rejected',
    reason: 'the verification data was altered during the onboarding (RequestAlteredInfo)',
  },
  RequestIsExpired: {
    status: 'expired',
    outcome: 'expired',
    reason: 'the enrollment request expired at Namirial (RequestIsExpired)',
  },
  RequestInvalidInfo: {
    status: 'completed',
    outcome: 'rejected',
    reason: 'the enrollment data is not correct for the identified person (RequestInvalidInfo)',
  },
  UnexpectedFailure: {
    status: 'failed',
    outcome: 'error',
    reason: 'Namirial failed unexpectedly while processing the enrollment (UnexpectedFailure)',
  },
  OnBoardingProviderError: {
    status: 'failed',
    outcome: 'error',
    reason: 'the onboarding provider behind Namirial had a problem (OnBoardingProviderError)',
  },
  PdfValidationError: {
    status: 'completed',
    outcome: 'rejected',
    reason: 'the PDF certificate validation failed (PdfValidationError)',
  },
};

test('every documented error code has a mapping', () => {
  expect(Object.keys(EXPECTED).sort()).toEqual([...NAMIRIAL_ERROR_CODES].sort());
});

test.each(NAMIRIAL_ERROR_CODES.map((c) => [c]))(
  'error code %s maps to a normalized outcome and a clear reason',
  async (code) => {
    const v = await create(ref(code.toLowerCase()));
    const returnTo = await finish(v, code);
    expect(returnTo.endsWith(`?verifidResult=error&verifidError=${code}`)).toBe(true);
    expect((await browserTo(returnTo)).status).toBe(200);
    const done = await stack.waitFor(v.id, (s) => s.outcome !== null);
    expect({ status: done.status, outcome: done.outcome, reason: done.reason }).toEqual(EXPECTED[code]);
    expect(done.facts).toMatchObject({
      namirialOutcome: code,
      browserSaid: code,
      vendorSaid: code,
      returnMismatch: false,
    });
    expect(done.nextAction.type).toBe('restart');
    expect((await searchAttributes(done.id)).outcome).toBe(EXPECTED[code]!.outcome);
  },
);

test('a forged "success" on the return URL decides nothing: Namirial says otherwise, and that is the outcome', async () => {
  const v = await create(ref('forged'), { options: { recheckInterval: '1s' } });
  const base = stack.sandbox.namirial.get(enrollmentOf(v))!.ReturnUrl;
  // The user has not done anything at Namirial, but sends the browser back claiming success.
  await browserTo(`${base}?verifidResult=success`);
  const waiting = await stack.waitFor(v.id, (s) => events(s).includes('return not confirmed yet'));
  expect(waiting).toMatchObject({ status: 'awaiting_user', outcome: null, providerStatus: 'New' });
  expect(waiting.timeline.at(-1)!.detail).toBe('the browser said Success, Namirial says New');

  // What really happens at Namirial: the document is not supported (the user never comes back).
  await control(stack, `/namirial/_sandbox/enrollments/${enrollmentOf(v)}/finish`, { result: 'NotSupportedDocument' });
  const done = await stack.waitFor(v.id, (s) => s.outcome !== null, 20_000);
  expect(done).toMatchObject({ status: 'completed', outcome: 'rejected', providerStatus: 'Failed' });
  expect(done.facts).toMatchObject({
    browserSaid: 'Success',
    vendorSaid: 'NotSupportedDocument',
    returnMismatch: true,
  });
  const contradiction = done.timeline.find((t) => t.event === 'return contradicted by Namirial')!;
  expect(contradiction.detail).toBe(
    "the browser said Success, Namirial says NotSupportedDocument: Namirial's word stands",
  );
  // A forged success is flagged for a person in the Web UI: VerificationAttention = "return-contradicted".
  expect(done.facts.attention).toBe('return-contradicted');
  const sa = (await stack.client.workflow.getHandle(v.id).describe()).typedSearchAttributes;
  expect(sa.get(SEARCH_ATTRIBUTES.attention)).toBe('return-contradicted');
});

test('the user fails but the browser is sent back with "success": rejected, mismatch recorded', async () => {
  const v = await create(ref('tampered'));
  const genuine = await finish(v, 'RequestAlteredInfo');
  const tampered = genuine.replace(/\?.*$/, '?verifidResult=success');
  await browserTo(tampered);
  const done = await stack.waitFor(v.id, (s) => s.outcome !== null);
  expect(done).toMatchObject({ status: 'completed', outcome: 'rejected', reason: EXPECTED.RequestAlteredInfo!.reason });
  expect(done.facts).toMatchObject({ returnMismatch: true, browserSaid: 'Success', vendorSaid: 'RequestAlteredInfo' });
});

test('the return never comes and nothing happens: expired at our deadline, after a last read', async () => {
  const v = await create(ref('nothing'), { options: { deadline: '3s', pollInterval: '1s' } });
  const done = await stack.waitFor(v.id, (s) => s.status === 'expired', 15_000);
  expect(done).toMatchObject({
    outcome: 'expired',
    reason: 'no final state from Namirial within 3s',
    providerStatus: 'New',
  });
  expect(done.nextAction.type).toBe('restart');
  expect((await searchAttributes(done.id)).status).toBe('expired');
});

test('the user finishes but the browser never comes back: polling finds the result', async () => {
  const v = await create(ref('poll'), { options: { pollInterval: '1s' } });
  await control(stack, `/namirial/_sandbox/enrollments/${enrollmentOf(v)}/finish`, { result: 'success' });
  const done = await stack.waitFor(v.id, (s) => s.status === 'completed', 15_000);
  expect(done.outcome).toBe('approved');
  expect(events(done)).toContain('enrollment read by polling');
  expect(events(done)).not.toContain('browser returned');
  expect(done.facts.returnMismatch).toBeUndefined();
});

test("Namirial's own clock runs out: expired (RequestIsExpired)", async () => {
  const v = await create(ref('vendorclock'), { options: { pollInterval: '1s' } });
  await control(stack, `/namirial/_sandbox/enrollments/${enrollmentOf(v)}/expire`);
  const done = await stack.waitFor(v.id, (s) => s.outcome !== null, 15_000);
  expect(done).toMatchObject({
    status: 'expired',
    outcome: 'expired',
    providerStatus: 'Expired',
    reason: EXPECTED.RequestIsExpired!.reason,
  });
});

test('503 from Namirial is retried, then the enrollment is created', async () => {
  await control(stack, '/namirial/_sandbox/faults', {
    mode: '5xx',
    status: 503,
    times: 2,
    path: '/api/v1/Enrollments',
  });
  const v = await create(ref('503'));
  expect(v.status).toBe('awaiting_user');
  const h = JSON.parse(await history(v.id));
  const started = h.events.find((e: any) => e.activityTaskStartedEventAttributes);
  expect(started.activityTaskStartedEventAttributes.attempt).toBe(3); // 503, 503, then 200
  const injected = (await (await fetch(`${stack.sandboxUrl}/namirial/_sandbox/faults`)).json()) as {
    injected: unknown[];
  };
  expect(injected.injected).toHaveLength(2);
});

describe('bad applicant data', () => {
  test.each([
    [{ firstName: 'Giulia', lastName: '', email: 'g@example.it' }, 'body.applicant.lastName'],
    [{ firstName: '   ', lastName: 'Rossi', email: 'g@example.it' }, 'body.applicant.firstName'],
    [{ firstName: 'Giulia', lastName: 'Rossi', email: 'not-an-email' }, 'body.applicant.email'],
    [{ firstName: 'Giulia', lastName: 'Rossi' }, 'body.applicant.email'],
    [undefined, 'body.applicant'],
  ])('%j is our 400 naming %s, before any vendor call', async (who, where) => {
    const reference = ref('bad');
    const res = await stack.api('POST', '/v1/verifications', {
      provider: 'namirial',
      reference,
      ...(who ? { applicant: who } : {}),
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    expect(res.body.error.message.startsWith(where)).toBe(true);
    expect(res.body.error.message).not.toContain('not-an-email');
    expect((await stack.api('GET', `/v1/verifications/namirial:${reference}`)).status).toBe(404);
  });

  test('Namirial still answers 400: the verification ends with the problem Type and Title, not the details', async () => {
    await control(stack, '/namirial/_sandbox/faults', {
      mode: '4xx',
      status: 400,
      times: 1,
      path: '/api/v1/Enrollments',
    });
    const who = applicant();
    const v = await create(ref('vendor400'), { applicant: who });
    const done = await stack.waitFor(v.id, (s) => s.status === 'failed');
    expect(done).toMatchObject({
      outcome: 'error',
      reason: 'Namirial createEnrollment answered 400 (-bad-request): The request is invalid',
    });
    expect(done.facts).toMatchObject({
      failureType: 'VendorRequestRejected',
      httpStatus: 400,
      problemType: '-bad-request',
    });
    expect(JSON.stringify(done)).not.toContain(who.lastName);
    const h = JSON.parse(await history(done.id));
    expect(h.events.filter((e: any) => e.activityTaskStartedEventAttributes)).toHaveLength(1); // not retried
  });

  test('401 from Namirial is a clear, non-retried failure', async () => {
    await control(stack, '/namirial/_sandbox/faults', {
      mode: '4xx',
      status: 401,
      times: 1,
      path: '/api/v1/Enrollments',
    });
    const v = await create(ref('vendor401'));
    const done = await stack.waitFor(v.id, (s) => s.status === 'failed');
    expect(done.reason).toBe(
      'Namirial createEnrollment answered 401 (-authn): There was a problem authenticating the request',
    );
  });
});

test('the sandbox: auth, the documented 400 for an empty last name, read-back, problem documents', async () => {
  const url = `${stack.sandboxUrl}/namirial/api/v1/Enrollments`;
  const body = {
    Profile: SANDBOX_CREDENTIALS.namirial.profile,
    Language: 'it',
    Email: 'j.doe@example.it',
    FirstName: 'John',
    LastName: 'Doe',
    ReturnUrl: 'https://example.it/enroll',
  };
  const put = async (b: unknown, token?: string) => {
    const res = await fetch(url, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...(token ? { 'x-verifid-apitoken': token } : {}) },
      body: JSON.stringify(b),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const token = SANDBOX_CREDENTIALS.namirial.apiToken;
  expect(await put(body)).toEqual({
    status: 401,
    body: {
      Type: 'https://verif.id/error/-authn',
      Title: 'There was a problem authenticating the request',
      Details: 'Authentication failed: missing token.',
    },
  });
  expect((await put(body, 'wrong-token')).body.Details).toBe('Authentication failed: bad token.');
  expect(await put({ ...body, LastName: '' }, token)).toEqual({
    status: 400,
    body: {
      Type: 'https://verif.id/error/-bad-request',
      Title: 'The request is invalid',
      Details: "Bit4Id::SPIDOnly::Sandbox can't enroll requests with an empty lastname",
    },
  });
  const created = await put(body, token);
  expect(created.status).toBe(200);
  expect(created.body).toMatchObject({
    Kinds: ['Email'],
    State: 'New',
    Outcome: null,
    Name: 'John',
    LastName: 'Doe',
    DocumentNumber: null,
    Provider: 'bit4id',
    IdentificationUrl: null,
  });
  expect(created.body.EnrollUrl).toBe(`${stack.sandboxUrl}/namirial/enrollment/start/${created.body.Id}`);
  const read = await fetch(`${url}/${created.body.Id}`, { headers: { 'x-verifid-apitoken': token } });
  expect(((await read.json()) as any).Id).toBe(created.body.Id);
  expect((await fetch(`${url}/nope`, { headers: { 'x-verifid-apitoken': token } })).status).toBe(404);

  await control(stack, '/namirial/_sandbox/faults', { mode: '5xx', status: 503, times: 1 });
  expect(await put(body, token)).toEqual({
    status: 503,
    body: {
      Type: 'https://verif.id/error/-service-unavailable',
      Title: 'The server is currently unable to handle the request',
      Details: 'Problems found trying to contact with OnBoarding Today API',
    },
  });
});

test('the return receiver refuses a forged state and never echoes the browser words', async () => {
  const v = await create(ref('recv'));
  const secret = stack.config.webhookSecret;
  const api = `${stack.apiUrl}/return/namirial`;
  const forgedStates = [
    'garbage',
    encodeReturnState('another-secret-another-secret-123', 'namirial', {
      workflowId: v.id,
      session: 1,
      returnTo: null,
    }),
    encodeReturnState(secret, 'authenteq', { workflowId: v.id, session: 1, returnTo: null }),
    encodeReturnState(secret, 'namirial', { workflowId: 'authenteq:someone-else', session: 1, returnTo: null }),
  ];
  for (const s of forgedStates) {
    const page = await browserTo(`${api}/${s}?verifidResult=success`);
    expect(page.status).toBe(401);
  }
  // A genuine state with words we do not know: passed on as "unrecognized", decided by Namirial.
  const base = stack.sandbox.namirial.get(enrollmentOf(v))!.ReturnUrl;
  const page = await browserTo(`${base}?verifidResult=<b>yes</b>&verifidError=Whatever`);
  expect(page.status).toBe(200);
  expect(page.text).not.toContain('<b>yes</b>');
  const after = await stack.waitFor(v.id, (s) => events(s).includes('browser returned'));
  expect(after.timeline.find((t) => t.event === 'browser returned')!.detail).toBe(
    'verifidResult unrecognized, verifidError unrecognized (to be confirmed with Namirial)',
  );
  expect(after.status).toBe('awaiting_user');
  expect(events(after).filter((e) => e === 'browser returned')).toHaveLength(1);
});

test("returnTo: the browser is sent on to the integrator's page", async () => {
  const v = await create(ref('returnto'), { options: { returnTo: 'https://integrator.example/done' } });
  const page = await browserTo(await finish(v, 'success'));
  expect(page.status).toBe(303);
  expect(page.location).toBe('https://integrator.example/done');
  expect((await stack.waitFor(v.id, (s) => s.status === 'completed')).outcome).toBe('approved');
});

describe('default durations (time-skipping server)', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await createTimeSkippingEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  test('the API defaults', () => {
    const input = namirialInput('namirial:x', 'x', applicant(), namirialOptions.parse({}));
    expect(input.options).toEqual({
      language: 'it',
      returnTo: null,
      deadline: '25 hours',
      pollInterval: '5 minutes',
      recheckInterval: '10 seconds',
    });
    expect(NAMIRIAL_DEFAULTS).toEqual({
      language: 'it',
      deadline: '25 hours',
      pollInterval: '5 minutes',
      recheckInterval: '10 seconds',
    });
  });

  test('polls every 5 minutes for 25 hours, then reads once more and expires', async () => {
    const reads: number[] = [];
    const summary = (state: string) => ({
      enrollmentId: 'e-1',
      state,
      outcome: null,
      provider: 'bit4id',
      kinds: ['Email'],
      enrollUrl: 'https://verifid.example/enrollment/start/e-1',
      resultRef: null,
    });
    const activities = {
      namirialCreateEnrollment: async () => summary('New'),
      namirialReadEnrollment: async () => {
        reads.push(Date.now());
        return summary('New');
      },
    };
    const taskQueue = `nm-ts-${crypto.randomBytes(4).toString('hex')}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      ...(await bundleOptions()),
      activities,
      dataConverter: testDataConverter(),
    });
    const id = `namirial:${ref('ts')}`;
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start('namirialEnrollment', {
        workflowId: id,
        taskQueue,
        args: [namirialInput(id, id.split(':')[1]!, applicant(), namirialOptions.parse({}))],
      });
      await env.sleep('24 hours');
      expect((await handle.query(stateQuery)).status).toBe('awaiting_user');
      const done = (await handle.result()) as VerificationState;
      expect(done).toMatchObject({
        status: 'expired',
        outcome: 'expired',
        reason: 'no final state from Namirial within 25 hours',
      });
      const took = Date.parse(done.updatedAt) - Date.parse(done.createdAt);
      expect(took).toBeGreaterThanOrEqual(25 * 3_600_000);
      expect(took).toBeLessThan(25 * 3_600_000 + 60_000);
      // 25 h / 5 min = 300 waits: 299 polls, then the last read at the deadline.
      expect(reads).toHaveLength(300);
      // Unchanged polls leave no trace in the timeline.
      expect(events(done)).toEqual(['created', 'enrollment created', 'expired: expired']);
    });
  });
});

test('cancel has one meaning: a cancel that lands while the final read is under way ends cancelled, not approved', async () => {
  const v = await create(ref('cancel-race'), { options: { pollInterval: '2s' } });
  await control(stack, '/namirial/_sandbox/faults', {
    mode: 'slow',
    times: 1,
    method: 'GET',
    path: '/api/v1/Enrollments/',
    delayMs: 4000,
  });
  await control(stack, `/namirial/_sandbox/enrollments/${enrollmentOf(v)}/finish`, { result: 'success' });
  // Wait until the slow read has started, then cancel while it runs.
  for (let i = 0; i < 100; i++) {
    const f = (await (await fetch(`${stack.sandboxUrl}/namirial/_sandbox/faults`)).json()) as { pending: unknown[] };
    if (f.pending.length === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const cancel = await stack.api('POST', `/v1/verifications/${v.id}/cancel`, { reason: 'customer withdrew' });
  expect(cancel.status).toBe(200);
  const done = await stack.waitFor(v.id, (s) => s.status === 'cancelled', 20_000);
  expect(done).toMatchObject({ outcome: null, reason: 'customer withdrew' });
  const late = await stack.api('POST', `/v1/verifications/${v.id}/cancel`, {});
  expect(late.status).toBe(409);
  expect(late.body.error.message).toContain('already ended as cancelled');
});
