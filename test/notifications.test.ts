/**
 * Notifications to the integrator's backend, end to end on the real dev server: the API registers
 * endpoints, the verification workflows record events, the delivery workflows sign and POST them,
 * and the sandbox receiver verifies every one with the `standardwebhooks` library.
 */
import crypto from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { connectToTestTemporal, type TestTemporal } from './helpers/temporal';
import { control, startStack, type Stack } from './helpers/stack';
import type { ReceivedNotification } from '../sandboxes/receiver';
import type { NotificationEvent } from '../workflows/notify-shared';

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

const ref = (name: string) => `nt-${name}-${crypto.randomBytes(4).toString('hex')}`;

/** Registers an endpoint at the sandbox receiver `name` and gives the receiver its secret. */
async function endpointAt(name: string, extra: Record<string, unknown> = {}): Promise<{ id: string; secret: string }> {
  const res = await stack.api('POST', '/v1/webhook-endpoints', { url: `${stack.sandboxUrl}/receiver/${name}`, ...extra });
  expect(res.status).toBe(201);
  expect(res.body.secret).toMatch(/^whsec_/);
  stack.sandbox.receiver.inbox(name).secrets = [res.body.secret];
  return { id: res.body.id, secret: res.body.secret };
}

const inbox = (name: string) => stack.sandbox.receiver.inbox(name).received;

async function until<T>(what: string, read: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = read();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

function forVerification(name: string, id: string): ReceivedNotification[] {
  return inbox(name).filter((r) => r.verificationId === id);
}

test('a full Finwave flow: every event arrives signed, verified by standardwebhooks, in sequence, without personal data', async () => {
  const name = ref('finwave');
  const ep = await endpointAt(name);
  const reference = ref('fw');
  const phone = String(600_000_000 + crypto.randomInt(99_999_999));
  const created = await stack.api('POST', '/v1/verifications', { provider: 'finwave', reference, applicant: { phoneCountryCode: '+34', phone } });
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  await fetch(created.body.nextAction.url);
  expect(await control(stack, `/finwave/_sandbox/onboardings/${created.body.providerReference}/finish`, { scenario: 'approved' })).toMatchObject({ status: 200 });
  await stack.waitFor(id, (s) => s.status === 'completed');

  const got = await until('verification.completed', () => {
    const r = forVerification(name, id);
    return r.some((x) => x.type === 'verification.completed') && r;
  });
  expect(got.every((r) => r.verified)).toBe(true);
  expect(got.map((r) => r.type)).toEqual(['verification.created', 'verification.action_required', 'verification.completed']);
  expect(got.map((r) => r.sequence)).toEqual([1, 2, 3]);
  expect(got.map((r) => r.webhookId)).toEqual([`${id}:1`, `${id}:2`, `${id}:3`]);
  const completed = got[2]!.body as NotificationEvent;
  expect(completed).toMatchObject({ id: `${id}:3`, type: 'verification.completed', sequence: 3, data: { verificationId: id, provider: 'finwave', reference, status: 'completed', outcome: 'approved', nextAction: { type: 'none' } } });
  expect(completed.data.evidence.map((e) => e.kind)).toEqual(expect.arrayContaining(['finwave-evidence-zip', 'finwave-result-json']));
  const action = got[1]!.body as NotificationEvent;
  expect(action.data.nextAction).toEqual(created.body.nextAction);
  // No personal data: the applicant's phone is nowhere in what was sent.
  expect(JSON.stringify(got)).not.toContain(phone);

  // The same bytes verify with the library directly; a wrong secret does not.
  const raw = JSON.stringify(completed);
  const headers = { 'webhook-id': completed.id, 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': new Webhook(ep.secret).sign(completed.id, new Date(), raw) };
  expect(() => new Webhook(ep.secret).verify(raw, headers)).not.toThrow();
  expect(() => new Webhook(`whsec_${crypto.randomBytes(24).toString('base64')}`).verify(raw, headers)).toThrow(/signature/i);

  // The delivery log shows each delivery, per endpoint and per verification.
  const log = await stack.api('GET', `/v1/webhook-deliveries?verificationId=${encodeURIComponent(id)}`);
  expect(log.status).toBe(200);
  expect(log.body.data).toHaveLength(3);
  for (const d of log.body.data) {
    expect(d).toMatchObject({ endpointId: ep.id, verificationId: id, status: 'delivered', nextAttemptAt: null });
    expect(d.deliveryId).toBe(`notify:${ep.id}:${d.eventId}`);
    expect(d.attempts).toHaveLength(1);
    expect(d.attempts[0]).toMatchObject({ statusCode: 200 });
    expect(typeof d.attempts[0].latencyMs).toBe('number');
  }
}, 60_000);

test('a wrong secret at the receiver: every delivery fails verification there', async () => {
  const name = ref('wrong');
  await endpointAt(name);
  stack.sandbox.receiver.inbox(name).secrets = [`whsec_${crypto.randomBytes(24).toString('base64')}`];
  const created = await stack.api('POST', '/v1/verifications', { provider: 'finwave', reference: ref('fw') });
  const got = await until('a delivery', () => forVerification(name, created.body.id)[0]);
  expect(got.verified).toBe(false);
  expect(got.error).toMatch(/signature/i);
});

test('a second vendor (Namirial): created, action_required and completed arrive verified and in order', async () => {
  const name = ref('namirial');
  await endpointAt(name);
  const tag = crypto.randomBytes(3).toString('hex');
  const created = await stack.api('POST', '/v1/verifications', {
    provider: 'namirial',
    reference: ref('nm'),
    applicant: { firstName: `Giulia${tag}`, lastName: `Rossi${tag}`, email: `giulia.${tag}@example.it` },
    options: { pollInterval: '1s' },
  });
  expect(created.status).toBe(201);
  await control(stack, `/namirial/_sandbox/enrollments/${created.body.providerReference}/finish`, { result: 'success' });
  const got = await until('verification.completed', () => {
    const r = forVerification(name, created.body.id);
    return r.some((x) => x.type === 'verification.completed') && r;
  });
  expect(got.every((r) => r.verified)).toBe(true);
  expect(got.map((r) => r.type)).toEqual(['verification.created', 'verification.action_required', 'verification.completed']);
  expect(got.map((r) => r.sequence)).toEqual([1, 2, 3]);
  expect(JSON.stringify(got)).not.toContain(tag);
}, 60_000);
