/**
 * Fourthline French solution end to end on a real Temporal dev server: API actions -> case workflow
 * and signature child workflows -> activities (token cache) -> Fourthline sandbox -> webhooks (HTTP
 * Basic here; OAuth in fourthline-oauth.test.ts) -> signals -> GET before acting.
 */
import crypto from 'node:crypto';
import { zipEntryNames } from '../sandboxes/framework/zip';
import { SEARCH_ATTRIBUTES } from '../workflows/shared';
import { connectToTestTemporal, type TestTemporal } from './helpers/temporal';
import { startStack, type Stack } from './helpers/stack';
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

const ref = (name: string) => `fl-${name}-${crypto.randomBytes(4).toString('hex')}`;
const history = async (id: string) => JSON.stringify(await temporal.client.workflow.getHandle(id).fetchHistory());

test('completed-verification flow: identity, processing, documents, mobile, details, approve, confirm -> signed', async () => {
  const f = fourthlineFlow(stack);
  const v = await f.create(ref('happy'));
  expect(v.status).toBe('awaiting_user');
  expect(v.nextAction).toMatchObject({ type: 'action', action: 'identity' });

  const identity = await f.identity(v.id, 'completed');
  expect(identity.status).toBe(200);
  expect(identity.body.caseStatus).toBe('pending');

  await stack.waitFor(
    v.id,
    (s) => s.nextAction.type === 'action' && (s.nextAction as { action: string }).action === 'documents',
    20_000,
  );
  const after = (await stack.api('GET', `/v1/verifications/${v.id}`)).body;
  expect(after.facts).toMatchObject({ caseStatus: 'completed', riskScore: 200 });
  expect(after.evidence.map((e: { kind: string }) => e.kind)).toContain('fourthline-cdd-report');

  await f.signUpToApproval(v.id);
  const details = await f.action(v.id, 'signature-details');
  expect(details.status).toBe(200);
  expect(details.body.shown.legalConditions).toEqual([
    { id: 'qtsp-terms', version: '3.2', title: 'QTSP terms and conditions' },
    { id: 'qtsp-privacy', version: '1.4', title: 'QTSP privacy notice' },
  ]);
  expect(details.body.passcode).toMatchObject({ length: 6, validitySeconds: 7200, resendsLeft: 4 });

  const approved = await f.action(v.id, 'approve', {});
  expect(approved.status).toBe(200);
  expect(approved.body.attempt).toMatchObject({
    phase: 'awaiting_confirmation',
    providerStatus: 'confirmation_required',
  });
  expect(approved.body.attempt.windows.confirmBy).toBeTruthy();

  const confirmed = await f.action(v.id, 'confirm', { passcode: await f.passcode(v.id) });
  expect(confirmed.status).toBe(200);

  const done = await stack.waitFor(v.id, (s) => s.status === 'completed', 20_000);
  expect(done).toMatchObject({ outcome: 'approved', providerStatus: 'signed', nextAction: { type: 'none' } });
  const kinds = done.evidence.map((e) => e.kind);
  expect(kinds).toEqual(
    expect.arrayContaining([
      'fourthline-cdd-report',
      'fourthline-signed-document',
      'fourthline-document-to-sign',
      'fourthline-identity-data',
    ]),
  );
  expect(kinds).not.toContain('fourthline-infocert-contract'); // 204: the flow went to Namirial

  // The signed PDF and the CDD ZIP are in the store, and match their hashes.
  const signed = done.evidence.find((e) => e.kind === 'fourthline-signed-document')!;
  const pdf = (await stack.store.get(signed.sha256))!;
  expect(crypto.createHash('sha256').update(pdf).digest('hex')).toBe(signed.sha256);
  expect(pdf.toString()).toContain('Signed by the QTSP');
  const cdd = done.evidence.find((e) => e.kind === 'fourthline-cdd-report')!;
  expect(zipEntryNames((await stack.store.get(cdd.sha256))!).some((n) => n.endsWith('cdd-report.json'))).toBe(true);

  // Consent evidence: shown, then accepted, same versions, same client, in order.
  const consent = await stack.api('GET', `/v1/verifications/${v.id}/consent`);
  expect(consent.status).toBe(200);
  const [shown, accepted] = consent.body.records;
  expect(shown).toMatchObject({ event: 'shown', attempt: 1, clientId: consent.body.clientId, language: 'fr' });
  expect(accepted).toMatchObject({
    event: 'accepted',
    attempt: 1,
    clientId: consent.body.clientId,
    legalConditions: shown.legalConditions,
    documents: shown.documents,
  });
  expect(accepted.approvalAttemptId).toBeTruthy();
  expect(Date.parse(accepted.at)).toBeGreaterThanOrEqual(Date.parse(shown.at));

  const sig = await stack.api('GET', `/v1/verifications/${v.id}/signature`);
  expect(sig.body.attempts).toHaveLength(1);
  expect(sig.body.attempts[0]).toMatchObject({ outcome: 'signed', phase: 'ended' });

  // No personal data, passcode, token or document bytes in either workflow's history.
  const h = (await history(v.id)) + (await history(sig.body.attempts[0].workflowId));
  for (const secret of [...f.personalData, ...stack.sandbox.fourthline.tokens.keys()]) expect(h).not.toContain(secret);
  expect(h).not.toContain(f.documentBase64.slice(0, 40));
  // The webhooks reached us (Basic auth) and were answered 200.
  const deliveries = stack.sandbox.fourthline.webhooks.log.filter((d) => d.tag === done.providerReference);
  expect(deliveries.some((d) => d.status === 200)).toBe(true);
});

test.each([
  ['invalid-data', 'invalid_data'],
  ['inconsistent-data', 'inconsistent_data'],
])('%s ends the case and asks for a new IDV + QES workflow', async (scenario, status) => {
  const f = fourthlineFlow(stack);
  const v = await f.create(ref(scenario));
  await f.identity(v.id, scenario);
  const done = await stack.waitFor(v.id, (s) => s.status === 'completed', 20_000);
  expect(done).toMatchObject({ status: 'completed', outcome: 'rejected', providerStatus: status }); // a rejection is completed/rejected for every vendor
  expect(done.nextAction).toEqual({ type: 'restart', reason: expect.stringContaining('IDV and QES') });
});

test('risk score 500: not eligible (kyc_required), new IDV + QES workflow', async () => {
  const f = fourthlineFlow(stack);
  const v = await f.create(ref('risk'));
  await f.identity(v.id, 'risk-500');
  const done = await stack.waitFor(v.id, (s) => s.status === 'completed', 20_000);
  expect(done).toMatchObject({ status: 'completed', outcome: 'rejected', providerStatus: 'kyc_required' });
  expect(done.facts.riskScore).toBe(500);
  expect(done.nextAction.type).toBe('restart');
});

describe('pending-verification flow (signature before the case completes)', () => {
  test('details match: pending_verification, then countersigned -> signed', async () => {
    const f = fourthlineFlow(stack, { flow: 'pending' });
    const v = await f.create(ref('pending-match'));
    await f.identity(v.id, 'pending-match');
    await f.signUpToApproval(v.id);
    // The case is still being processed while the client signs.
    expect((await stack.api('GET', `/v1/verifications/${v.id}/signature`)).body.caseStatus).toBe('pending');
    expect((await f.approveAndConfirm(v.id)).body.attempt.providerStatus).toBe('pending_verification');
    const done = await stack.waitFor(v.id, (s) => s.status === 'completed', 20_000);
    expect(done).toMatchObject({ outcome: 'approved', providerStatus: 'signed' });
    expect(done.timeline.some((t) => t.providerStatus === 'pending_verification')).toBe(true);
    expect(done.evidence.map((e) => e.kind)).toEqual(
      expect.arrayContaining(['fourthline-cdd-report', 'fourthline-signed-document']),
    );
  });

  test("details don't match: invalid_signature, then a new signature-only attempt by itself -> signed", async () => {
    const f = fourthlineFlow(stack, { flow: 'pending' });
    const v = await f.create(ref('pending-mismatch'));
    await f.identity(v.id, 'pending-mismatch');
    await f.signUpToApproval(v.id);
    await f.approveAndConfirm(v.id);
    // Attempt 2: the workflow re-uploads the documents and the mobile number itself.
    const second = await f.waitPhase(v.id, 'awaiting_approval', 2);
    const sig = (await stack.api('GET', `/v1/verifications/${v.id}/signature`)).body;
    expect(sig.attempts[0]).toMatchObject({ attempt: 1, outcome: 'invalid_signature' });
    expect(second.signatureId).not.toBe(sig.attempts[0].signatureId);
    await f.approveAndConfirm(v.id);
    const done = await stack.waitFor(v.id, (s) => s.status === 'completed', 20_000);
    expect(done.outcome).toBe('approved');
    expect(done.facts.signatureAttempt).toBe(2);
    const consent = (await stack.api('GET', `/v1/verifications/${v.id}/consent`)).body.records;
    expect(consent.map((r: { attempt: number; event: string }) => `${r.attempt}:${r.event}`)).toEqual([
      '1:shown',
      '1:accepted',
      '2:shown',
      '2:accepted',
    ]);
  });
});

test('selfie_required: upload a selfie, then the normal signature', async () => {
  const f = fourthlineFlow(stack);
  const v = await f.create(ref('selfie'));
  await f.identity(v.id, 'selfie-required');
  const waiting = await f.signUpToApproval(v.id, 'awaiting_selfie');
  expect(waiting.windows.selfieBy).toBeTruthy();
  const s = await stack.waitFor(
    v.id,
    (x) => x.nextAction.type === 'action' && (x.nextAction as { action: string }).action === 'selfie',
  );
  expect((s.nextAction as { deadline?: string }).deadline).toBe(waiting.windows.selfieBy);
  const up = await f.action(v.id, 'selfie', {
    contentType: 'image/jpeg',
    contentBase64: Buffer.from('ffd8ffe0ffd9', 'hex').toString('base64'),
  });
  expect(up.status).toBe(200);
  expect(up.body.attempt.phase).toBe('awaiting_approval');
  await f.approveAndConfirm(v.id);
  expect((await stack.waitFor(v.id, (x) => x.status === 'completed', 20_000)).outcome).toBe('approved');
});

test('recoverable error: the status returns to user_consent_required and the client approves again', async () => {
  const f = fourthlineFlow(stack);
  const v = await f.create(ref('recover'));
  await f.identity(v.id, 'recoverable-error');
  await f.signUpToApproval(v.id);
  await f.action(v.id, 'signature-details');
  const first = await f.action(v.id, 'approve', {});
  expect(first.body.attempt.phase).toBe('vendor_error');
  // The sandbox recovers after 500 ms; its webhook tells us, and the workflow reads the status back.
  await stack.waitFor(v.id, (s) => {
    const err = s.timeline.findIndex((t) => t.providerStatus === 'error');
    return err >= 0 && s.timeline.slice(err).some((t) => t.providerStatus === 'user_consent_required');
  });
  await f.approveAndConfirm(v.id);
  const done = await stack.waitFor(v.id, (x) => x.status === 'completed', 20_000);
  expect(done.outcome).toBe('approved');
  expect(done.timeline.some((t) => t.providerStatus === 'error')).toBe(true);
  expect((await stack.api('GET', `/v1/verifications/${v.id}/signature`)).body.attempts).toHaveLength(1);
});

test('unrecoverable error: still error at the error mark -> new signature-only attempt (policy allows)', async () => {
  const f = fourthlineFlow(stack);
  const v = await f.create(ref('unrecoverable'), { errorAfter: '4s' });
  await f.identity(v.id, 'unrecoverable-error');
  await f.signUpToApproval(v.id);
  await f.action(v.id, 'signature-details');
  expect((await f.action(v.id, 'approve', {})).body.attempt.phase).toBe('vendor_error');
  await f.waitPhase(v.id, 'awaiting_approval', 2, 30_000);
  const sig = (await stack.api('GET', `/v1/verifications/${v.id}/signature`)).body;
  expect(sig.attempts[0]).toMatchObject({ outcome: 'error' });
  await f.approveAndConfirm(v.id);
  expect((await stack.waitFor(v.id, (x) => x.status === 'completed', 20_000)).outcome).toBe('approved');
});

test('InfoCert fallback: the contract is downloaded (200)', async () => {
  const f = fourthlineFlow(stack);
  const v = await f.create(ref('infocert'));
  await f.identity(v.id, 'infocert');
  await f.signUpToApproval(v.id);
  await f.approveAndConfirm(v.id);
  const done = await stack.waitFor(v.id, (x) => x.status === 'completed', 20_000);
  expect(done.evidence.map((e) => e.kind)).toContain('fourthline-infocert-contract');
});

test('wrong passcode: 422 from Fourthline, the attempt goes on; resend at most 4 times (the 5th refused locally)', async () => {
  const f = fourthlineFlow(stack);
  const v = await f.create(ref('passcode'));
  await f.identity(v.id);
  await f.signUpToApproval(v.id);
  await f.action(v.id, 'signature-details');
  await f.action(v.id, 'approve', {});
  const right = await f.passcode(v.id);
  const wrong = await f.action(v.id, 'confirm', { passcode: right === '000000' ? '111111' : '000000' });
  expect(wrong.status).toBe(422);
  expect(wrong.body.error).toEqual({
    code: 'vendor_rejected',
    message: 'Fourthline refused the request (INVALID_PASSCODE)',
  });
  for (let i = 1; i <= 4; i++) {
    const r = await f.action(v.id, 'resend-passcode');
    expect(r.status).toBe(200);
    expect(r.body.attempt.passcodeResends).toBe(i);
  }
  const c = await f.current(v.id);
  const callsBefore = (await (
    await fetch(`${stack.sandboxUrl}/fourthline/_sandbox/signatures/${c.signatureId}`)
  ).json()) as { calls: unknown[]; resends: number };
  const fifth = await f.action(v.id, 'resend-passcode');
  expect(fifth.status).toBe(422);
  expect(fifth.body.error.code).toBe('window_closed');
  const callsAfter = (await (
    await fetch(`${stack.sandboxUrl}/fourthline/_sandbox/signatures/${c.signatureId}`)
  ).json()) as { calls: unknown[]; resends: number };
  expect(callsAfter.calls.length).toBe(callsBefore.calls.length); // refused before any vendor call
  expect(callsAfter.resends).toBe(4);
  // The old passcode no longer works; the latest one does.
  expect((await f.action(v.id, 'confirm', { passcode: right })).status).toBe(422);
  expect((await f.action(v.id, 'confirm', { passcode: await f.passcode(v.id) })).status).toBe(200);
  expect((await stack.waitFor(v.id, (x) => x.status === 'completed', 20_000)).outcome).toBe('approved');
});

test('wrong state: 409 before any vendor call; approve before the details is refused', async () => {
  const f = fourthlineFlow(stack);
  const v = await f.create(ref('state'));
  expect((await f.action(v.id, 'approve', {})).status).toBe(409); // no attempt yet
  await f.identity(v.id);
  expect((await f.identity(v.id)).status).toBe(409); // once only
  await f.waitPhase(v.id, 'awaiting_documents');
  const early = await f.action(v.id, 'mobile-number', { mobileNumber: f.mobile });
  expect(early.status).toBe(409);
  expect(early.body.error.message).toContain('awaiting_documents');
  await f.signUpToApproval(v.id).catch(() => undefined);
  await f.waitPhase(v.id, 'awaiting_approval');
  const noDetails = await f.action(v.id, 'approve', {});
  expect(noDetails.status).toBe(409);
  expect(noDetails.body.error.message).toContain('signature details');
  const c = await f.current(v.id);
  const sb = (await (await fetch(`${stack.sandboxUrl}/fourthline/_sandbox/signatures/${c.signatureId}`)).json()) as {
    approvals: number;
  };
  expect(sb.approvals).toBe(0);
  // A version that was not shown cannot be accepted.
  await f.action(v.id, 'signature-details');
  const other = await f.action(v.id, 'approve', { legalConditions: [{ id: 'qtsp-terms', version: '9.9' }] });
  expect(other.status).toBe(409);
  // Bad bodies are 400s naming the field.
  const bad = await f.action(v.id, 'confirm', { passcode: 'abc' });
  expect(bad.status).toBe(400);
  expect(bad.body.error.message).toMatch(/^body\.passcode/);
  await stack.api('POST', `/v1/verifications/${v.id}/cancel`, {});
  const cancelled = await stack.waitFor(v.id, (x) => x.status === 'cancelled');
  expect(cancelled.outcome).toBeNull();
  const attempt = (await stack.api('GET', `/v1/verifications/${v.id}/signature`)).body.attempts[0];
  expect(attempt.outcome).toBe('cancelled');
});

test("vendor-side window: Fourthline's own clock past 2 h answers 422; the attempt ends expired", async () => {
  const f = fourthlineFlow(stack);
  // Our window is longer than Fourthline's here, so that the vendor's 422 is what we see.
  const v = await f.create(ref('vendor-422'), { approvalWindow: '3 hours', maxSignatureAttempts: 1 });
  await f.identity(v.id);
  await f.signUpToApproval(v.id);
  await f.action(v.id, 'signature-details');
  const c = await f.current(v.id);
  const res = await fetch(`${stack.sandboxUrl}/fourthline/_sandbox/clock`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ advanceMs: 2 * 3_600_000 + 60_000 }),
  });
  expect(res.status).toBe(200);
  try {
    const late = await f.action(v.id, 'approve', {});
    expect(late.status).toBe(422);
    expect(late.body.error).toEqual({
      code: 'vendor_rejected',
      message: 'Fourthline refused the request (APPROVAL_EXPIRED)',
    });
    const done = await stack.waitFor(v.id, (x) => x.status === 'expired', 20_000);
    expect(done.reason).toContain('APPROVAL_EXPIRED');
    expect(done.nextAction.type).toBe('restart');
    expect((await stack.api('GET', `/v1/verifications/${v.id}/signature`)).body.attempts[0].signatureId).toBe(
      c.signatureId,
    );
  } finally {
    stack.sandbox.fourthline.offsetMs = 0;
  }
});

describe('access token', () => {
  test('an expired token is refreshed once (401 -> new token -> retry)', async () => {
    const f = fourthlineFlow(stack);
    const v = await f.create(ref('token'));
    const before = stack.sandbox.fourthline.tokensIssued;
    await fetch(`${stack.sandboxUrl}/fourthline/_sandbox/tokens/expire`, { method: 'POST' });
    const res = await f.identity(v.id);
    expect(res.status).toBe(200);
    expect(stack.sandbox.fourthline.tokensIssued).toBe(before + 1);
  });

  test('concurrent activities share one token', async () => {
    await fetch(`${stack.sandboxUrl}/fourthline/_sandbox/tokens/expire`, { method: 'POST' });
    // Drop the cached token by making the next call fail with 401 once everywhere: expire, then start 4 cases at once.
    const before = stack.sandbox.fourthline.tokensIssued;
    const f = fourthlineFlow(stack);
    const vs = await Promise.all([1, 2, 3, 4].map((i) => f.create(ref(`concurrent${i}`))));
    expect(vs.every((v) => v.status === 'awaiting_user')).toBe(true);
    expect(stack.sandbox.fourthline.tokensIssued).toBe(before + 1);
  });
});

describe('webhooks', () => {
  test('bad credentials: 401, and nothing reaches the workflow', async () => {
    const f = fourthlineFlow(stack);
    const v = await f.create(ref('hook-auth'));
    await stack.sandbox.fourthline.drain();
    const before = (await stack.api('GET', `/v1/verifications/${v.id}`)).body.timeline;
    const url = `/webhooks/fourthline/cases/${v.providerReference}`;
    const body = { verificationId: v.providerReference, status: 'completed' };
    const post = (authorization?: string) =>
      fetch(`${stack.apiUrl}${url}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        body: JSON.stringify(body),
      });
    expect((await post()).status).toBe(401);
    expect(
      (await post(`Basic ${Buffer.from('fourthline-webhooks:wrong-password-000').toString('base64')}`)).status,
    ).toBe(401);
    expect((await post('Bearer something')).status).toBe(401);
    const ok = await post(
      `Basic ${Buffer.from(`${stack.config.vendors.fourthline.webhookAuth.mode === 'basic' ? `${stack.config.vendors.fourthline.webhookAuth.username}:${stack.config.vendors.fourthline.webhookAuth.password}` : ''}`).toString('base64')}`,
    );
    expect(ok.status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    const after = (await stack.api('GET', `/v1/verifications/${v.id}`)).body.timeline;
    // Only the authenticated one was noted (and the workflow then read the case: still new).
    expect(after.filter((t: { event: string }) => t.event === 'case webhook received').length).toBe(
      before.filter((t: { event: string }) => t.event === 'case webhook received').length + 1,
    );
  });

  test('a case webhook finds its case by the VerificationProviderReference search attribute', async () => {
    const f = fourthlineFlow(stack);
    const v = await f.create(ref('hook-lookup'));
    const sa = (await stack.client.workflow.getHandle(v.id).describe()).typedSearchAttributes;
    expect(sa.get(SEARCH_ATTRIBUTES.providerReference)).toBe(v.providerReference);
    const auth = stack.config.vendors.fourthline.webhookAuth;
    const basic = `Basic ${Buffer.from(auth.mode === 'basic' ? `${auth.username}:${auth.password}` : '').toString('base64')}`;
    const post = (fourthlineId: string) =>
      fetch(`${stack.apiUrl}/webhooks/fourthline/cases/${fourthlineId}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: basic },
        body: JSON.stringify({ verificationId: fourthlineId, status: 'pending' }),
      });
    const found = await post(v.providerReference!);
    expect(found.status).toBe(200);
    expect(await found.json()).toEqual({ received: true });
    await stack.waitFor(v.id, (s) => s.timeline.some((t) => t.event === 'case webhook received'));
    // An id no case holds: 404 once the lookup's brief retries are spent.
    const unknown = await post(`unknown-${ref('x')}`);
    expect(unknown.status).toBe(404);
  });

  test('duplicated and stale webhooks change nothing: the workflow reads the status first', async () => {
    const f = fourthlineFlow(stack);
    const v = await f.create(ref('dupes'));
    await f.identity(v.id);
    await f.signUpToApproval(v.id);
    const c = await f.current(v.id);
    await fetch(`${stack.sandboxUrl}/fourthline/_sandbox/signatures/${c.signatureId}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'signed', times: 3 }),
    });
    await stack.sandbox.fourthline.drain();
    await new Promise((r) => setTimeout(r, 500));
    expect((await f.current(v.id)).phase).toBe('awaiting_approval');
    await f.approveAndConfirm(v.id);
    expect((await stack.waitFor(v.id, (x) => x.status === 'completed', 20_000)).outcome).toBe('approved');
  });
});

test("defaults are the vendor's real windows", async () => {
  const { FOURTHLINE_DEFAULTS } = await import('../workflows/fourthline');
  expect(FOURTHLINE_DEFAULTS).toMatchObject({
    approvalWindow: '2 hours',
    confirmationWindow: '1 hour',
    passcodeValidity: '2 hours',
    selfieWindow: '24 hours',
    errorAfter: '24 hours',
  });
  const { FOURTHLINE_CLOCKS } = await import('../sandboxes/fourthline');
  expect(FOURTHLINE_CLOCKS).toMatchObject({
    tokenTtlMs: 3_600_000,
    approvalWindowMs: 7_200_000,
    confirmationWindowMs: 3_600_000,
    errorAfterMs: 86_400_000,
    maxResends: 4,
  });
});
