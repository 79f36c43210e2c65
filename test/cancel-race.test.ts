/**
 * Cancel has one meaning for Fourthline, ID360 and Authenteq too (Finwave: finwave.test.ts; Namirial:
 * namirial.test.ts): a cancel accepted (200) before the final decision wins, even while the final read
 * is under way, and the verification ends `cancelled`, never approved; a cancel after the end answers
 * 409 naming the final state. Real Temporal dev server, the API and the vendor sandboxes.
 */
import crypto from 'node:crypto';
import type { VerificationState } from '../workflows/shared';
import { connectToTestTemporal, type TestTemporal } from './helpers/temporal';
import { control, startStack, type Stack } from './helpers/stack';
import { fourthlineFlow } from './helpers/fourthline';

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

const ref = (name: string) => `race-${name}-${crypto.randomBytes(4).toString('hex')}`;

/** Makes the vendor's next matching GET answer after `delayMs`: the final read is then slow. */
async function slowNextRead(vendor: string, path: string, delayMs = 4000): Promise<void> {
  const res = await control(stack, `/${vendor}/_sandbox/faults`, {
    mode: 'slow',
    times: 1,
    method: 'GET',
    path,
    delayMs,
  });
  expect(res.status).toBe(201);
}

/** Waits until the slow read has started (the sandbox has used the fault up): the final read is under way. */
async function slowReadStarted(vendor: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const f = (await (await fetch(`${stack.sandboxUrl}/${vendor}/_sandbox/faults`)).json()) as { pending: unknown[] };
    if (f.pending.length === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the slow ${vendor} read never started`);
}

/** The cancel lands during the final read: 200, then `cancelled` for good, and a second cancel is 409. */
async function cancelWins(id: string, vendor: string): Promise<VerificationState> {
  await slowReadStarted(vendor);
  const cancel = await stack.api('POST', `/v1/verifications/${id}/cancel`, { reason: 'customer withdrew' });
  expect(cancel.status).toBe(200);
  const done = await stack.waitFor(id, (s) => s.status === 'cancelled' || s.status === 'completed', 30_000);
  expect(done).toMatchObject({ status: 'cancelled', outcome: null, reason: 'customer withdrew' });
  // The workflow has closed as cancelled: the result never turns into an approval afterwards.
  const result: VerificationState = await temporal.client.workflow.getHandle(id).result();
  expect(result).toMatchObject({ status: 'cancelled', outcome: null });
  const late = await stack.api('POST', `/v1/verifications/${id}/cancel`, {});
  expect(late.status).toBe(409);
  expect(late.body.error).toEqual({ code: 'conflict', message: 'the verification has already ended as cancelled' });
  return done;
}

async function cancelTooLate(id: string): Promise<void> {
  const cancel = await stack.api('POST', `/v1/verifications/${id}/cancel`, { reason: 'too late' });
  expect(cancel.status).toBe(409);
  expect(cancel.body.error).toEqual({
    code: 'conflict',
    message: 'the verification has already ended as completed/approved',
  });
  expect((await stack.api('GET', `/v1/verifications/${id}`)).body).toMatchObject({
    status: 'completed',
    outcome: 'approved',
  });
}

describe('ID360', () => {
  const action = (id: string, name: string, body: unknown = {}) =>
    stack.api('POST', `/v1/verifications/${encodeURIComponent(id)}/actions/${name}`, body);
  const jpeg = () => Buffer.concat([Buffer.from('ffd8ffe0', 'hex'), crypto.randomBytes(300)]).toString('base64');

  async function toFinalize(reference: string): Promise<VerificationState> {
    const res = await stack.api('POST', '/v1/verifications', { provider: 'id360', reference });
    expect(res.status).toBe(201);
    const id = res.body.id as string;
    expect((await action(id, 'consent', { acceptedCgu: true, acceptedBiometry: false })).status).toBe(200);
    expect(
      (await action(id, 'upload-document-page', { page: 0, totalPages: 1, contentType: 'image/jpeg', data: jpeg() }))
        .status,
    ).toBe(200);
    expect((await action(id, 'finalize')).status).toBe(200);
    return res.body;
  }

  test('a cancel that lands while the report is being read ends cancelled, not approved', async () => {
    await slowNextRead('id360', '/report');
    const v = await toFinalize(ref('id360'));
    const done = await cancelWins(v.id, 'id360');
    // The verdict had come in before the cancel; the cancel still wins.
    expect(done.timeline.map((t) => t.event)).toContain('verdict OK received by callback');
  });

  test('a cancel after the verdict answers 409 naming the final state', async () => {
    const v = await toFinalize(ref('id360-late'));
    await stack.waitFor(v.id, (s) => s.status === 'completed', 30_000);
    await cancelTooLate(v.id);
  });
});

describe('Authenteq', () => {
  async function passAndReturn(reference: string): Promise<VerificationState> {
    const res = await stack.api('POST', '/v1/verifications', { provider: 'authenteq', reference, options: {} });
    expect(res.status).toBe(201);
    const v: VerificationState = res.body;
    const token = new URL((v.nextAction as { url: string }).url).searchParams.get('token')!;
    const pass = await control(stack, `/authenteq/_sandbox/sessions/${token}/pass`, {});
    expect(pass.status).toBe(200);
    // The browser comes back to our receiver with the code.
    const back = await fetch(pass.body.redirectTo as string, { redirect: 'manual' });
    expect(back.status).toBeLessThan(400);
    return v;
  }

  test('a cancel that lands while the code is being exchanged for the result ends cancelled, not approved', async () => {
    await slowNextRead('authenteq', '/web-idv/verification-result');
    const v = await passAndReturn(ref('aq'));
    await cancelWins(v.id, 'authenteq');
  });

  test('a cancel after the result answers 409 naming the final state', async () => {
    const v = await passAndReturn(ref('aq-late'));
    await stack.waitFor(v.id, (s) => s.status === 'completed', 30_000);
    await cancelTooLate(v.id);
  });
});

describe('Fourthline', () => {
  async function toConfirm(name: string) {
    const f = fourthlineFlow(stack);
    const v = await f.create(ref(name));
    expect((await f.identity(v.id, 'completed')).status).toBe(200);
    await f.signUpToApproval(v.id);
    expect((await f.approveAndConfirm(v.id)).status).toBe(200);
    return v;
  }

  test('a cancel that lands while the signed documents are being read ends cancelled, not approved', async () => {
    // (Only GETs of a signed document match: the upload of the documents is a POST.)
    await slowNextRead('fourthline', '/documents/');
    const v = await toConfirm('fl');
    await cancelWins(v.id, 'fourthline');
  });

  test('a cancel after the signature answers 409 naming the final state', async () => {
    const v = await toConfirm('fl-late');
    await stack.waitFor(v.id, (s) => s.status === 'completed', 30_000);
    await cancelTooLate(v.id);
  });
});
