/**
 * Issue 10: a Fourthline step whose answer is lost (the sandbox applies the call, then drops the
 * connection: `dropAfterHandling`) is retried by Temporal. The retry must find out what the first
 * attempt did (read the signature state first) instead of doing it twice or reporting "Fourthline
 * refused". The sandbox ledger counts the side effects, so a duplicate is counted, not guessed.
 * Real dev server, real worker, real sandbox.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
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

const ref = (name: string) => `fl-idem-${name}-${crypto.randomBytes(4).toString('hex')}`;
const dropNext = (path: string) =>
  control(stack, '/fourthline/_sandbox/faults', { mode: 'dropAfterHandling', path, method: 'POST', times: 1 });
const ledger = () => stack.sandbox.fourthline.ledger;

async function upToApproval(name: string) {
  const f = fourthlineFlow(stack);
  const v = await f.create(ref(name));
  await f.identity(v.id);
  await f.signUpToApproval(v.id);
  expect((await f.action(v.id, 'signature-details')).status).toBe(200);
  const { signatureId } = await f.current(v.id);
  return { f, v, signatureId };
}

test('approve answered lost: the retry reads the state, approves once, the step succeeds', async () => {
  const { f, v, signatureId } = await upToApproval('approve');
  expect((await dropNext('/approval')).status).toBe(201);
  const approved = await f.action(v.id, 'approve', {});
  expect(approved.status).toBe(200); // not "Fourthline refused (INVALID_STATUS)"
  expect(approved.body.attempt).toMatchObject({
    phase: 'awaiting_confirmation',
    providerStatus: 'confirmation_required',
  });
  expect(ledger().count('approval', { subject: signatureId })).toBe(1);
  expect(ledger().count('sms-sent', { subject: signatureId })).toBe(1);
  expect(
    stack.sandbox.fourthline.faults.injected.some(
      (i) => i.mode === 'dropAfterHandling' && i.path.includes(signatureId),
    ),
  ).toBe(true);
  expect((await f.action(v.id, 'confirm', { passcode: await f.passcode(v.id) })).status).toBe(200);
  expect((await stack.waitFor(v.id, (s) => s.status === 'completed', 20_000)).outcome).toBe('approved');
});

test('confirm answered lost: the passcode is kept for the retry, which sees the signature done', async () => {
  const { f, v, signatureId } = await upToApproval('confirm');
  expect((await f.action(v.id, 'approve', {})).status).toBe(200);
  const passcode = await f.passcode(v.id);
  expect((await dropNext('/confirmation')).status).toBe(201);
  const confirmed = await f.action(v.id, 'confirm', { passcode });
  expect(confirmed.status).toBe(200); // not EvidenceMissing, not "Fourthline refused"
  expect(ledger().count('confirmation', { subject: signatureId })).toBe(1);
  const done = await stack.waitFor(v.id, (s) => s.status === 'completed', 20_000);
  expect(done).toMatchObject({ outcome: 'approved', providerStatus: 'signed' });
  // Once the step is decided, the passcode is gone from the store.
  expect((await stack.store.claims({ owner: v.id })).filter((c) => c.kind === 'fourthline-passcode')).toEqual([]);
  const files = (fs.readdirSync(stack.store.dir, { recursive: true }) as string[])
    .map((n) => path.join(stack.store.dir, n))
    .filter((n) => fs.statSync(n).isFile());
  expect(files.some((n) => fs.readFileSync(n, 'utf8').includes(`"passcode":"${passcode}"`))).toBe(false);
});

test('resend answered lost: one SMS, one resend spent, the step succeeds', async () => {
  const { f, v, signatureId } = await upToApproval('resend');
  expect((await f.action(v.id, 'approve', {})).status).toBe(200);
  expect(ledger().count('sms-sent', { subject: signatureId })).toBe(1);
  expect((await dropNext('/passcode/resend')).status).toBe(201);
  const resent = await f.action(v.id, 'resend-passcode');
  expect(resent.status).toBe(200);
  expect(resent.body.attempt.passcodeResends).toBe(1);
  expect(ledger().count('sms-sent', { subject: signatureId })).toBe(2); // the first SMS + one resend, not two
  const sig = (await (await fetch(`${stack.sandboxUrl}/fourthline/_sandbox/signatures/${signatureId}`)).json()) as {
    resends: number;
  };
  expect(sig.resends).toBe(1);
  // The same ledger over HTTP, for tools outside the test process (the chaos suite).
  const http = (await (await fetch(`${stack.sandboxUrl}/fourthline/_sandbox/ledger`)).json()) as {
    entries: { kind: string; subject: string }[];
    duplicates: unknown[];
  };
  expect(http.entries.filter((e) => e.kind === 'sms-sent' && e.subject === signatureId)).toHaveLength(2);
  expect(http.duplicates).toEqual([]);
  expect((await f.action(v.id, 'confirm', { passcode: await f.passcode(v.id) })).status).toBe(200);
  expect((await stack.waitFor(v.id, (s) => s.status === 'completed', 20_000)).outcome).toBe('approved');
});

test('documents upload answered lost: the retry sees the documents at Fourthline and does not send them again', async () => {
  const f = fourthlineFlow(stack);
  const v = await f.create(ref('docs'));
  await f.identity(v.id);
  await f.waitPhase(v.id, 'awaiting_documents');
  const { signatureId } = await f.current(v.id);
  expect((await dropNext('/documents')).status).toBe(201);
  const docs = await f.action(v.id, 'documents', {
    documents: [{ name: 'contract.pdf', contentBase64: f.documentBase64 }],
  });
  expect(docs.status).toBe(200);
  expect(ledger().count('documents-uploaded', { subject: signatureId })).toBe(1);
  expect(
    ledger()
      .duplicates()
      .filter((d) => d.key === signatureId),
  ).toEqual([]);
  expect((await f.action(v.id, 'mobile-number', { mobileNumber: f.mobile })).status).toBe(200);
  await f.waitPhase(v.id, 'awaiting_approval');
});

const dropNextAny = (path: string, method: 'POST' | 'PUT') =>
  control(stack, '/fourthline/_sandbox/faults', { mode: 'dropAfterHandling', path, method, times: 1 });

test('mobile number answered lost: the retry sees the signature moved on, uploads once, the step succeeds', async () => {
  const f = fourthlineFlow(stack);
  const v = await f.create(ref('mobile'));
  await f.identity(v.id);
  await f.waitPhase(v.id, 'awaiting_documents');
  const { signatureId } = await f.current(v.id);
  expect(
    (await f.action(v.id, 'documents', { documents: [{ name: 'contract.pdf', contentBase64: f.documentBase64 }] }))
      .status,
  ).toBe(200);
  expect((await dropNextAny('/mobile-number', 'PUT')).status).toBe(201);
  const m = await f.action(v.id, 'mobile-number', { mobileNumber: f.mobile });
  expect(m.status).toBe(200); // not "Fourthline refused (INVALID_STATUS)"
  expect(
    stack.sandbox.fourthline.faults.injected.some(
      (i) => i.mode === 'dropAfterHandling' && i.path.includes(`${signatureId}/mobile-number`),
    ),
  ).toBe(true);
  expect(ledger().count('mobile-number', { subject: signatureId })).toBe(1);
  await f.waitPhase(v.id, 'awaiting_approval');
  expect((await f.approveAndConfirm(v.id)).status).toBe(200);
  expect((await stack.waitFor(v.id, (s) => s.status === 'completed', 20_000)).outcome).toBe('approved');
});

test('selfie answered lost: the retry sees the signature moved on, uploads once, the step succeeds', async () => {
  const f = fourthlineFlow(stack);
  const v = await f.create(ref('selfie'));
  await f.identity(v.id, 'selfie-required');
  await f.signUpToApproval(v.id, 'awaiting_selfie');
  const { signatureId } = await f.current(v.id);
  expect((await dropNextAny('/selfie', 'POST')).status).toBe(201);
  const s = await f.action(v.id, 'selfie', {
    contentType: 'image/jpeg',
    contentBase64: Buffer.from('ffd8ffe000104a46494600010100000100010000ffd9', 'hex').toString('base64'),
  });
  expect(s.status).toBe(200); // not "Fourthline refused (INVALID_STATUS)"
  expect(
    stack.sandbox.fourthline.faults.injected.some(
      (i) => i.mode === 'dropAfterHandling' && i.path.includes(`${signatureId}/selfie`),
    ),
  ).toBe(true);
  expect(ledger().count('selfie', { subject: signatureId })).toBe(1);
  await f.waitPhase(v.id, 'awaiting_approval');
  expect((await f.approveAndConfirm(v.id)).status).toBe(200);
  expect((await stack.waitFor(v.id, (s) => s.status === 'completed', 20_000)).outcome).toBe('approved');
});
