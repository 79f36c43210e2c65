/**
 * Issue 10 point 1: a create whose answer is lost (the sandbox applies it, then drops the connection or
 * answers after our HTTP timeout) is retried by Temporal. Fourthline, ID360 and Namirial document no
 * idempotency key and no look-up, so the retry makes a second case / enrollment: it must not stay
 * untracked. The verification records it (`facts.vendorDuplicatesPossible`, the orphan's reference in
 * `facts.vendorDuplicates` once a callback names it), flags `VerificationAttention`, and the orphan never
 * decides the outcome. Plus the sandbox faults `answerLate` and `webhookFirst`. The sandbox ledgers count
 * every create. Real dev server, real worker, real sandboxes.
 */
import crypto from 'node:crypto';
import { connectToTestTemporal, type TestTemporal } from './helpers/temporal';
import { control, startStack, type Stack } from './helpers/stack';
import { fourthlineFlow } from './helpers/fourthline';
import { id360CallbackSignal } from '../workflows/id360-messages';

let temporal: TestTemporal;
let stack: Stack;

beforeAll(async () => {
  temporal = await connectToTestTemporal();
  stack = await startStack({ ...temporal, env: { MIN_POLL_INTERVAL_MS: '1000' } });
});

afterAll(async () => {
  await stack?.stop();
  await temporal?.close();
});

const ref = (name: string) => `idem-${name}-${crypto.randomBytes(4).toString('hex')}`;
const fault = (vendor: string, body: Record<string, unknown>) =>
  control(stack, `/${vendor}/_sandbox/faults`, { times: 1, ...body });
const createsWithKey = (vendor: 'fourthline' | 'id360' | 'namirial', kind: string, key: (k: string) => boolean) =>
  stack.sandbox[vendor].ledger.entries.filter((e) => e.kind === kind && e.key !== undefined && key(e.key));

async function state(id: string) {
  const res = await stack.api('GET', `/v1/verifications/${encodeURIComponent(id)}`);
  expect(res.status).toBe(200);
  return res.body as {
    status: string;
    outcome: string | null;
    providerReference: string | null;
    facts: Record<string, unknown>;
  };
}

test('Fourthline create answered after our timeout (answerLate): the second case is recorded and flagged; the flow goes on with the answered one', async () => {
  const f = fourthlineFlow(stack);
  const reference = ref('fl-late');
  // Applied at once, answered 35 s later: our call gives up after 30 s, Temporal retries the create.
  expect(
    (await fault('fourthline', { mode: 'answerLate', path: '/v1/workflows', method: 'POST', delayMs: 35_000 })).status,
  ).toBe(201);
  const v = await f.create(reference);
  const s = await stack.waitFor(v.id, (x) => x.providerReference !== null && x.facts.attention !== undefined, 60_000);
  const cases = createsWithKey('fourthline', 'workflow-created', (k) => k === reference);
  expect(cases).toHaveLength(2); // the duplicate exists at Fourthline: no key, no look-up to avoid it
  expect(cases.map((c) => c.subject)).toContain(s.providerReference);
  expect(s.facts).toMatchObject({ attention: 'vendor-duplicate-possible', vendorDuplicatesPossible: 1 });
  expect(stack.sandbox.fourthline.faults.injected.some((i) => i.mode === 'answerLate')).toBe(true);
  // The orphan decides nothing: the answered case carries the flow to its end.
  expect((await f.identity(v.id)).status).toBe(200);
  await f.signUpToApproval(v.id);
  expect((await f.approveAndConfirm(v.id)).status).toBe(200);
  expect((await stack.waitFor(v.id, (x) => x.status === 'completed', 30_000)).outcome).toBe('approved');
}, 120_000);

test('Fourthline signature-only create (attempt 2) answer lost: the second signature workflow is recorded and flagged; attempt 2 signs', async () => {
  const f = fourthlineFlow(stack, { flow: 'pending' });
  const reference = ref('fl-sig');
  const v = await f.create(reference);
  await f.identity(v.id, 'pending-mismatch');
  await f.signUpToApproval(v.id);
  // The next create is attempt 2's signature-only workflow, made by the workflow itself after invalid_signature.
  expect((await fault('fourthline', { mode: 'dropAfterHandling', path: '/v1/workflows', method: 'POST' })).status).toBe(
    201,
  );
  await f.approveAndConfirm(v.id);
  const second = await f.waitPhase(v.id, 'awaiting_approval', 2, 40_000);
  const creates = createsWithKey('fourthline', 'workflow-created', (k) => k === reference);
  expect(creates).toHaveLength(3); // the case, attempt 2's signature workflow and its untracked twin
  expect(creates.map((c) => c.subject)).toContain(second.signatureId);
  const s = await state(v.id);
  expect(s.facts).toMatchObject({ attention: 'vendor-duplicate-possible', vendorDuplicatesPossible: 1 });
  await f.approveAndConfirm(v.id);
  const done = await stack.waitFor(v.id, (x) => x.status === 'completed', 30_000);
  expect(done).toMatchObject({ outcome: 'approved', facts: { signatureAttempt: 2, vendorDuplicatesPossible: 1 } });
}, 90_000);

test('Fourthline create with its webhook delivered before the answer (webhookFirst): one case, no flag, the flow goes on', async () => {
  const f = fourthlineFlow(stack);
  const reference = ref('fl-first');
  expect(
    (await fault('fourthline', { mode: 'webhookFirst', path: '/v1/workflows', method: 'POST', delayMs: 5_000 })).status,
  ).toBe(201);
  const v = await f.create(reference);
  const s = await stack.waitFor(v.id, (x) => x.providerReference !== null, 30_000);
  const cases = createsWithKey('fourthline', 'workflow-created', (k) => k === reference);
  expect(cases.map((c) => c.subject)).toEqual([s.providerReference]);
  // The case webhook went out before the create answer; whatever it met, the flow goes on.
  const first = stack.sandbox.fourthline.webhooks.log.find((d) => d.tag === s.providerReference);
  expect(first).toBeDefined();
  expect((await f.identity(v.id)).status).toBe(200);
  await f.waitPhase(v.id, 'awaiting_documents');
  expect((await state(v.id)).facts.attention).toBeUndefined();
}, 60_000);

test('ID360 create answer lost: flagged at once; the orphan is recorded when its callback names it, and its CANCELED decides nothing', async () => {
  const reference = ref('id-drop');
  expect((await fault('id360', { mode: 'dropAfterHandling', path: '/enrollment', method: 'POST' })).status).toBe(201);
  const res = await stack.api('POST', '/v1/verifications', { provider: 'id360', reference });
  expect(res.status).toBe(201);
  const id = res.body.id as string;
  const s = await stack.waitFor(id, (x) => x.providerReference !== null && x.facts.attention !== undefined, 30_000);
  const created = createsWithKey('id360', 'enrollment-created', (k) => k === reference);
  expect(created).toHaveLength(2);
  expect(s.facts).toMatchObject({ attention: 'vendor-duplicate-possible', vendorDuplicatesPossible: 1 });
  const orphan = created.map((c) => c.subject).find((e) => e !== s.providerReference)!;
  expect(orphan).toBeDefined();
  // ID360's own clock ends the orphan: its CANCELED callback comes to this verification's URL.
  expect((await control(stack, `/id360/_sandbox/enrollments/${orphan}/expire`)).status).toBe(200);
  const flagged = await stack.waitFor(id, (x) => x.facts.vendorDuplicates !== undefined, 20_000);
  expect(flagged.facts).toMatchObject({ attention: 'vendor-duplicate', vendorDuplicates: orphan });
  expect(flagged.status).toBe('awaiting_user'); // the orphan's CANCELED did not end it
  expect(flagged.providerReference).toBe(s.providerReference);
  // The verification still ends by its own enrollment.
  expect((await control(stack, `/id360/_sandbox/enrollments/${s.providerReference}/cancel`)).status).toBe(200);
  const end = await stack.waitFor(
    id,
    (x) => x.status === 'failed' || x.status === 'completed' || x.status === 'cancelled',
    30_000,
  );
  expect(end).toMatchObject({
    status: 'failed',
    outcome: 'abandoned',
    providerStatus: 'CANCELED',
    providerReference: s.providerReference,
  });
  expect(end.facts).toMatchObject({ vendorDuplicates: orphan });
  // An erasure names what it cannot reach: the orphan holds the applicant's data at ID360 (no deletion call).
  const erased = await stack.api('DELETE', `/v1/verifications/${encodeURIComponent(id)}/personal-data`);
  expect(erased.status).toBe(200);
  expect(erased.body.atVendor).toEqual({ duplicates: [orphan], possibleDuplicates: 1 });
  const audit = await stack.api('GET', `/v1/verifications/${encodeURIComponent(id)}/audit`);
  const entry = audit.body.entries.find((e: { event: string }) => e.event === 'personal data erased');
  expect(entry.detail.atVendor).toEqual({ duplicates: [orphan], possibleDuplicates: 1 });
}, 90_000);

test('ID360 create with a callback before its answer (webhookFirst): one enrollment, no flag, the flow goes on', async () => {
  const reference = ref('id-first');
  expect(
    (await fault('id360', { mode: 'webhookFirst', path: '/enrollment', method: 'POST', delayMs: 5_000 })).status,
  ).toBe(201);
  const res = await stack.api('POST', '/v1/verifications', { provider: 'id360', reference });
  expect(res.status).toBe(201);
  const id = res.body.id as string;
  const s = await stack.waitFor(id, (x) => x.providerReference !== null, 30_000);
  expect(createsWithKey('id360', 'enrollment-created', (k) => k === reference).map((c) => c.subject)).toEqual([
    s.providerReference,
  ]);
  const delivered = stack.sandbox.id360.webhooks.log.filter((d) => d.tag === s.providerReference && d.event === 'NEW');
  expect(delivered.length).toBeGreaterThan(0);
  const st = await state(id);
  expect(st.facts.attention).toBeUndefined();
  expect(st.status).not.toBe('cancelled');
  expect(
    (
      await stack.api('POST', `/v1/verifications/${encodeURIComponent(id)}/actions/consent`, {
        acceptedCgu: true,
        acceptedBiometry: false,
      })
    ).status,
  ).toBe(200);
}, 60_000);

test('Namirial create answer lost: the possible orphan is recorded and flagged; the flow goes on with the answered enrollment', async () => {
  const reference = ref('nm-drop');
  const tag = crypto.randomBytes(3).toString('hex');
  expect(
    (await fault('namirial', { mode: 'dropAfterHandling', path: '/api/v1/Enrollments', method: 'PUT' })).status,
  ).toBe(201);
  const res = await stack.api('POST', '/v1/verifications', {
    provider: 'namirial',
    reference,
    applicant: { firstName: `Giulia${tag}`, lastName: `Rossi${tag}`, email: `giulia.${tag}@example.it` },
    options: {},
  });
  expect(res.status).toBe(201);
  const id = res.body.id as string;
  const s = await stack.waitFor(id, (x) => x.providerReference !== null && x.facts.attention !== undefined, 30_000);
  const created = stack.sandbox.namirial.ledger.entries.filter(
    (e) => e.kind === 'enrollment-created' && e.key?.includes('/return/namirial/'),
  );
  expect(created.map((c) => c.subject)).toContain(s.providerReference);
  expect(stack.sandbox.namirial.ledger.duplicates().some((d) => d.subjects.includes(s.providerReference!))).toBe(true);
  expect(s.facts).toMatchObject({ attention: 'vendor-duplicate-possible', vendorDuplicatesPossible: 1 });
  expect(s.status).toBe('awaiting_user');
}, 60_000);

test('Namirial create answered 503 twice, then created: nothing was applied before, so no flag', async () => {
  const reference = ref('nm-503');
  const tag = crypto.randomBytes(3).toString('hex');
  expect(
    (await fault('namirial', { mode: '5xx', status: 503, times: 2, path: '/api/v1/Enrollments', method: 'PUT' }))
      .status,
  ).toBe(201);
  const res = await stack.api('POST', '/v1/verifications', {
    provider: 'namirial',
    reference,
    applicant: { firstName: `Giulia${tag}`, lastName: `Rossi${tag}`, email: `giulia.${tag}@example.it` },
    options: {},
  });
  expect(res.status).toBe(201);
  const s = await stack.waitFor(res.body.id, (x) => x.providerReference !== null, 30_000);
  expect(stack.sandbox.namirial.faults.injected.filter((i) => i.mode === '5xx')).toHaveLength(2);
  expect(stack.sandbox.namirial.ledger.duplicates().some((d) => d.subjects.includes(s.providerReference!))).toBe(false);
  expect((await state(res.body.id)).facts.attention).toBeUndefined();
}, 60_000);

test('ID360: a callback naming another enrollment that comes before the create has answered waits for it, and then decides nothing', async () => {
  const reference = ref('id-early-orphan');
  // The create is applied at once and answered 6 s later, within our HTTP timeout: no retry, one enrollment.
  expect(
    (await fault('id360', { mode: 'answerLate', path: '/enrollment', method: 'POST', delayMs: 6_000 })).status,
  ).toBe(201);
  // The API answers the create once the vendor has: the callback goes in while it waits.
  const created = stack.api('POST', '/v1/verifications', { provider: 'id360', reference });
  const id = `id360:${reference}`;
  for (let i = 0; i < 100 && !createsWithKey('id360', 'enrollment-created', (k) => k === reference).length; i++)
    await new Promise((r) => setTimeout(r, 50));
  // A final callback of an enrollment that is not this verification's (an orphan of a lost create).
  await stack.client.workflow
    .getHandle(id)
    .signal(id360CallbackSignal, { enrollmentId: 'orphan-0', status: 'CANCELED', reason: null, steps: {} });
  const res = await created;
  expect(res.status).toBe(201);
  expect(res.body.id).toBe(id);
  const s = await stack.waitFor(id, (x) => x.facts.vendorDuplicates !== undefined, 30_000);
  expect(s.facts).toMatchObject({ attention: 'vendor-duplicate', vendorDuplicates: 'orphan-0' });
  expect(s.status).toBe('awaiting_user'); // the orphan's CANCELED did not end it
  expect(s.providerReference).toBe(createsWithKey('id360', 'enrollment-created', (k) => k === reference)[0]!.subject);
}, 60_000);
