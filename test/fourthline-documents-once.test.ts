/**
 * Found by the chaos suite (`npm run chaos`, full run): Fourthline's ledger showed `documents-uploaded`
 * twice for one signature, so the client would have signed the contract twice.
 *
 * How: the documents step is an Update whose activity (flNow: 4 attempts, 1 minute) can run out of
 * attempts after Fourthline took the documents (the first answer lost, the retries failing or the worker
 * killed again). The update fails (502 / 409), the integrator's backend asks again (a new Update), and
 * the new activity starts at attempt 1: the "read the signature first" check ran on retries only, so
 * the second activity sent the documents blind. Real dev server, real worker, real sandbox; the
 * sandbox ledger counts the uploads.
 */
import crypto from 'node:crypto';
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

const ledger = () => stack.sandbox.fourthline.ledger;
const fault = (body: Record<string, unknown>) => control(stack, '/fourthline/_sandbox/faults', body);

test('documents step out of attempts after Fourthline took them; the integrator asks again: uploaded once', async () => {
  const f = fourthlineFlow(stack);
  const v = await f.create(`fl-docs-once-${crypto.randomBytes(4).toString('hex')}`);
  expect((await f.identity(v.id)).status).toBe(200);
  await f.waitPhase(v.id, 'awaiting_documents');
  const { signatureId } = await f.current(v.id);

  // Attempt 1: Fourthline takes the documents, the answer is lost. Attempts 2-4 (the first retry comes
  // 500 ms later): their reads of the signature answer 503, so the activity runs out of attempts and the
  // step fails. The 503s are armed once the drop happened, so that attempt 1's own read (if any) passes.
  expect(
    (
      await fault({
        mode: 'dropAfterHandling',
        path: `/v1/signatures/${signatureId}/documents`,
        method: 'POST',
        times: 1,
      })
    ).status,
  ).toBe(201);
  const documents = { documents: [{ name: 'contract.pdf', contentBase64: f.documentBase64 }] };
  const firstCall = f.action(v.id, 'documents', documents);
  const dropped = () =>
    stack.sandbox.fourthline.faults.injected.some(
      (i) => i.mode === 'dropAfterHandling' && i.path.includes(signatureId),
    );
  for (const until = Date.now() + 20_000; !dropped() && Date.now() < until;) await new Promise((r) => setTimeout(r, 5));
  expect(dropped()).toBe(true);
  expect(
    (await fault({ mode: '5xx', status: 503, path: `/v1/signatures/${signatureId}`, method: 'GET', times: 3 })).status,
  ).toBe(201);
  const first = await firstCall;
  expect(first.status).toBe(502); // vendor_unavailable: the step did not learn what happened
  expect(
    stack.sandbox.fourthline.faults.injected.filter((i) => i.path.includes(signatureId)).map((i) => i.mode),
  ).toEqual(['dropAfterHandling', '5xx', '5xx', '5xx']);
  expect(ledger().count('documents-uploaded', { subject: signatureId })).toBe(1);
  expect((await f.current(v.id)).phase).toBe('awaiting_documents');

  // The integrator's backend (or the chaos suite's resilient client) repeats the action: a new Update,
  // a new activity at attempt 1. It must find the documents at Fourthline and not send them again.
  const again = await f.action(v.id, 'documents', documents);
  expect(again.status).toBe(200);
  expect(again.body.attempt).toMatchObject({ phase: 'awaiting_mobile' });
  expect(ledger().count('documents-uploaded', { subject: signatureId })).toBe(1);
  expect(
    ledger()
      .duplicates()
      .filter((d) => d.key === signatureId),
  ).toEqual([]);

  // The signature goes on as usual.
  expect((await f.action(v.id, 'mobile-number', { mobileNumber: f.mobile })).status).toBe(200);
  await f.waitPhase(v.id, 'awaiting_approval');
});

test('a new signature attempt uploads the carried documents itself: the integrator cannot upload them a second time meanwhile', async () => {
  const f = fourthlineFlow(stack);
  const v = await f.create(`fl-docs-carry-${crypto.randomBytes(4).toString('hex')}`, { errorAfter: '4s' });
  expect((await f.identity(v.id, 'unrecoverable-error')).status).toBe(200);
  await f.signUpToApproval(v.id);
  expect((await f.action(v.id, 'signature-details')).status).toBe(200);
  expect((await f.action(v.id, 'approve', {})).body.attempt.phase).toBe('vendor_error');
  // Attempt 2 (a new signature) carries the documents forward; its upload is slow at Fourthline, so
  // the attempt shows `awaiting_documents` meanwhile and the integrator, seeing that, uploads too.
  expect((await fault({ mode: 'slow', delayMs: 4_000, path: '/documents', method: 'POST', times: 1 })).status).toBe(
    201,
  );
  const c = await f.waitPhase(v.id, 'awaiting_documents', 2, 30_000);
  const own = await f.action(v.id, 'documents', {
    documents: [{ name: 'contract.pdf', contentBase64: f.documentBase64 }],
  });
  await f.waitPhase(v.id, 'awaiting_approval', 2, 30_000);
  expect(ledger().count('documents-uploaded', { subject: c.signatureId })).toBe(1);
  expect(
    ledger()
      .duplicates()
      .filter((d) => d.key === c.signatureId),
  ).toEqual([]);
  expect(own.status).toBe(409); // the attempt is uploading the carried documents itself
});
