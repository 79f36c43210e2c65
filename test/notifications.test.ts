/**
 * Notifications to the integrator's backend, end to end on the real dev server: the API registers
 * endpoints, the verification workflows record events, the delivery workflows sign and POST them,
 * and the sandbox receiver verifies every one with the `standardwebhooks` library.
 */
import crypto from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { connectToTestTemporal, type TestTemporal } from './helpers/temporal';
import { API_KEY, control, startStack, type Stack } from './helpers/stack';
import type { ReceivedNotification } from '../sandboxes/receiver';
import { endpointRegistryWorkflowId, outboxWorkflowId, type NotificationEvent } from '../workflows/notify-shared';
import { tenantWorkflowId } from '../workflows/shared';

let temporal: TestTemporal;
let stack: Stack;

/** A second tenant (its own API key). */
const TENANT_B_KEY = 'tenant-b-key-0123456789abcdef';
/**
 * Tenants of this file only: a tenant's endpoint registry is a long-lived workflow on this stack's task
 * queue, so registries left in a shared tenant would make every later stack on the server query a
 * registry no worker polls (and deliver to this stack's receivers).
 */
const run = crypto.randomBytes(3).toString('hex');
const TENANT_A = `nta-${run}`;
const TENANT_B = `ntb-${run}`;

beforeAll(async () => {
  temporal = await connectToTestTemporal();
  stack = await startStack({
    ...temporal,
    env: {
      // Two tenants (keyId:token[:tenant[:scopes]]).
      API_KEYS: `tests:${API_KEY}:${TENANT_A}:integrator+codec,tenantb:${TENANT_B_KEY}:${TENANT_B}:integrator`,
      MIN_POLL_INTERVAL_MS: '1000',
      // Few delivery slots, two per endpoint: the fairness test shows a slow endpoint cannot take them all.
      NOTIFICATIONS_MAX_CONCURRENT_DELIVERIES: '4',
      NOTIFICATIONS_MAX_IN_FLIGHT_PER_ENDPOINT: '2',
    },
  });
});

afterAll(async () => {
  for (const tenant of [TENANT_A, TENANT_B]) {
    await temporal?.client.workflow
      .getHandle(endpointRegistryWorkflowId(tenant))
      .terminate('test over')
      .catch(() => undefined);
  }
  await stack?.stop();
  await temporal?.close();
});

const ref = (name: string) => `nt-${name}-${crypto.randomBytes(4).toString('hex')}`;

/** Registers an endpoint at the sandbox receiver `name` and gives the receiver its secret. */
async function endpointAt(name: string, extra: Record<string, unknown> = {}): Promise<{ id: string; secret: string }> {
  const res = await stack.api('POST', '/v1/webhook-endpoints', {
    url: `${stack.sandboxUrl}/receiver/${name}`,
    ...extra,
  });
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
  const created = await stack.api('POST', '/v1/verifications', {
    provider: 'finwave',
    reference,
    applicant: { phoneCountryCode: '+34', phone },
  });
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  await fetch(created.body.nextAction.url);
  expect(
    await control(stack, `/finwave/_sandbox/onboardings/${created.body.providerReference}/finish`, {
      scenario: 'approved',
    }),
  ).toMatchObject({ status: 200 });
  await stack.waitFor(id, (s) => s.status === 'completed');

  const got = await until('verification.completed', () => {
    const r = forVerification(name, id);
    return r.some((x) => x.type === 'verification.completed') && r;
  });
  expect(got.every((r) => r.verified)).toBe(true);
  expect(got.map((r) => r.type)).toEqual([
    'verification.created',
    'verification.action_required',
    'verification.completed',
  ]);
  expect(got.map((r) => r.sequence)).toEqual([1, 2, 3]);
  expect(got.map((r) => r.webhookId)).toEqual([`${id}:1`, `${id}:2`, `${id}:3`]);
  const completed = got[2]!.body as NotificationEvent;
  expect(completed).toMatchObject({
    id: `${id}:3`,
    type: 'verification.completed',
    sequence: 3,
    data: {
      verificationId: id,
      provider: 'finwave',
      reference,
      status: 'completed',
      outcome: 'approved',
      nextAction: { type: 'none' },
    },
  });
  expect(completed.data.evidence.map((e) => e.kind)).toEqual(
    expect.arrayContaining(['finwave-evidence-zip', 'finwave-result-json']),
  );
  const action = got[1]!.body as NotificationEvent;
  expect(action.data.nextAction).toEqual(created.body.nextAction);
  // No personal data: the applicant's phone is nowhere in what was sent.
  expect(JSON.stringify(got)).not.toContain(phone);

  // The same bytes verify with the library directly; a wrong secret does not.
  const raw = JSON.stringify(completed);
  const headers = {
    'webhook-id': completed.id,
    'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
    'webhook-signature': new Webhook(ep.secret).sign(completed.id, new Date(), raw),
  };
  expect(() => new Webhook(ep.secret).verify(raw, headers)).not.toThrow();
  expect(() => new Webhook(`whsec_${crypto.randomBytes(24).toString('base64')}`).verify(raw, headers)).toThrow(
    /signature/i,
  );

  // The delivery log shows each delivery, per endpoint and per verification. (The receiver can have an
  // event before its delivery workflow records it: under a full run's load that took over 10 s once.)
  const log = await waitForApi(
    `/v1/webhook-deliveries?verificationId=${encodeURIComponent(id)}`,
    (b) => b.data?.length === 3 && b.data.every((d: { status: string }) => d.status !== 'pending'),
  );
  for (const d of log.data) {
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
  await control(stack, `/namirial/_sandbox/enrollments/${created.body.providerReference}/finish`, {
    result: 'success',
  });
  const got = await until('verification.completed', () => {
    const r = forVerification(name, created.body.id);
    return r.some((x) => x.type === 'verification.completed') && r;
  });
  expect(got.every((r) => r.verified)).toBe(true);
  expect(got.map((r) => r.type)).toEqual([
    'verification.created',
    'verification.action_required',
    'verification.completed',
  ]);
  expect(got.map((r) => r.sequence)).toEqual([1, 2, 3]);
  expect(JSON.stringify(got)).not.toContain(tag);
}, 60_000);

test('secret rotation: during the overlap both signatures are sent and each secret alone verifies', async () => {
  const name = ref('rotate');
  const ep = await endpointAt(name);
  const rotated = await stack.api('POST', `/v1/webhook-endpoints/${ep.id}/rotate-secret`, { overlapSeconds: 3600 });
  expect(rotated.status).toBe(200);
  expect(rotated.body.secret).toMatch(/^whsec_/);
  expect(rotated.body.secret).not.toBe(ep.secret);
  expect(rotated.body.secretsInOverlap).toBe(1);
  const listed = await stack.api('GET', '/v1/webhook-endpoints');
  expect(JSON.stringify(listed.body)).not.toContain('whsec_'); // never shown again

  const verifiesWith = (r: ReceivedNotification, secret: string) => {
    try {
      new Webhook(secret).verify(r.raw.body, r.raw.headers);
      return true;
    } catch {
      return false;
    }
  };
  const created = await stack.api('POST', '/v1/verifications', { provider: 'finwave', reference: ref('fw') });
  const during = await until('a delivery', () => forVerification(name, created.body.id)[0]);
  expect(during.verified).toBe(true); // the receiver still has the old secret only
  expect(during.raw.headers['webhook-signature']!.split(' ')).toHaveLength(2);
  expect(verifiesWith(during, ep.secret)).toBe(true);
  expect(verifiesWith(during, rotated.body.secret)).toBe(true);

  // After an overlap of 0, only the newest secret signs.
  const again = await stack.api('POST', `/v1/webhook-endpoints/${ep.id}/rotate-secret`, { overlapSeconds: 0 });
  expect(again.body.secretsInOverlap).toBe(0);
  const next = await stack.api('POST', '/v1/verifications', { provider: 'finwave', reference: ref('fw') });
  const after = await until('a delivery after the overlap', () => forVerification(name, next.body.id)[0]);
  expect(after.raw.headers['webhook-signature']!.split(' ')).toHaveLength(1);
  expect(verifiesWith(after, again.body.secret)).toBe(true);
  expect(verifiesWith(after, rotated.body.secret)).toBe(false);
  expect(verifiesWith(after, ep.secret)).toBe(false);
}, 60_000);

test('410 Gone disables and flags the endpoint: nothing more is sent to it', async () => {
  const name = ref('gone');
  const ep = await endpointAt(name);
  stack.sandbox.receiver.inbox(name).answer = { status: 410, delayMs: 0 };
  const created = await stack.api('POST', '/v1/verifications', { provider: 'finwave', reference: ref('fw') });
  const disabled = await waitForApi(`/v1/webhook-endpoints/${ep.id}`, (b) => b.enabled === false);
  expect(disabled).toMatchObject({ enabled: false, flagged: true, disabledReason: 'the endpoint answered 410 Gone' });
  await stack.waitFor(created.body.id, (s) => s.nextAction.type === 'redirect');
  const log = await waitForApi(
    `/v1/webhook-deliveries?endpointId=${ep.id}`,
    (b) => b.data.length >= 1 && b.data.every((d: { status: string }) => d.status !== 'pending'),
  );
  expect(log.data.map((d: { status: string }) => d.status)).toEqual(expect.arrayContaining(['endpoint_disabled']));
  // Exactly one request reached the receiver: the one answered 410; later events were not sent.
  expect(forVerification(name, created.body.id)).toHaveLength(1);
  expect(log.data.find((d: { sequence: number }) => d.sequence === 1).attempts[0]).toMatchObject({ statusCode: 410 });
}, 60_000);

test('redelivery: one event again with the same webhook-id, and every failed one since a time after re-enabling', async () => {
  const name = ref('redeliver');
  const ep = await endpointAt(name);
  const since = new Date().toISOString();
  const created = await stack.api('POST', '/v1/verifications', { provider: 'finwave', reference: ref('fw') });
  const id = created.body.id as string;
  await until('two deliveries', () => forVerification(name, id).length >= 2);
  await waitForApi(
    `/v1/webhook-deliveries?endpointId=${ep.id}&verificationId=${encodeURIComponent(id)}`,
    (b) => b.data.length === 2 && b.data.every((d: { status: string }) => d.status === 'delivered'),
  );

  const one = await stack.api('POST', '/v1/webhook-deliveries/redeliver', { endpointId: ep.id, eventId: `${id}:1` });
  expect(one.status).toBe(202);
  expect(one.body.redelivered).toEqual([
    expect.objectContaining({ deliveryId: `notify:${ep.id}:${id}:1`, eventId: `${id}:1` }),
  ]);
  const copies = await until('the redelivered copy', () => {
    const r = forVerification(name, id).filter((x) => x.webhookId === `${id}:1`);
    return r.length === 2 && r;
  });
  expect(copies.every((c) => c.verified)).toBe(true);
  expect(copies[1]!.body).toEqual(copies[0]!.body); // the same event, byte for byte the same JSON

  // The endpoint goes away (410) for the next verification's events, then comes back.
  stack.sandbox.receiver.inbox(name).answer = { status: 410, delayMs: 0 };
  const lost = await stack.api('POST', '/v1/verifications', { provider: 'finwave', reference: ref('fw') });
  await waitForApi(`/v1/webhook-endpoints/${ep.id}`, (b) => b.enabled === false);
  const refused = await stack.api('POST', '/v1/webhook-deliveries/redeliver', { endpointId: ep.id, since });
  expect(refused).toMatchObject({ status: 409, body: { error: { code: 'endpoint_disabled' } } });
  // Both events (created, action_required) recorded and refused before the endpoint comes back: one still
  // pending would simply be delivered after re-enabling, and not be redelivered.
  await stack.waitFor(lost.body.id, (s) => s.nextAction.type === 'redirect');
  await waitForApi(
    `/v1/webhook-deliveries?endpointId=${ep.id}&verificationId=${encodeURIComponent(lost.body.id)}`,
    (b) => b.data.length >= 2 && b.data.every((d: { status: string }) => d.status !== 'pending'),
  );
  stack.sandbox.receiver.inbox(name).answer = { status: 200, delayMs: 0 };
  expect((await stack.api('PATCH', `/v1/webhook-endpoints/${ep.id}`, { enabled: true })).body).toMatchObject({
    enabled: true,
    flagged: false,
    disabledReason: null,
  });
  const all = await stack.api('POST', '/v1/webhook-deliveries/redeliver', { endpointId: ep.id, since });
  expect(all.status).toBe(202);
  const again = all.body.redelivered.map((r: { eventId: string }) => r.eventId).sort();
  expect(again[0]).toBe(`${lost.body.id}:1`); // the one answered 410, and any later one not sent since
  expect(again.every((e: string) => e.startsWith(`${lost.body.id}:`))).toBe(true); // delivered ones are not sent again
  const back = await until('the failed events redelivered', () => {
    const ok = forVerification(name, lost.body.id).filter((x) => x.answered === 200);
    return (again as string[]).every((e) => ok.some((x) => x.webhookId === e)) ? ok : false;
  });
  expect(back.every((x) => x.verified)).toBe(true);
  expect(back.map((x) => x.webhookId).sort()).toEqual(again);

  // Bad requests answer in our error shape.
  expect(await stack.api('POST', '/v1/webhook-deliveries/redeliver', { endpointId: ep.id })).toMatchObject({
    status: 400,
    body: { error: { code: 'invalid_request' } },
  });
  expect(
    await stack.api('POST', '/v1/webhook-deliveries/redeliver', { endpointId: 'ep_0000000000000000', eventId: 'x:1' }),
  ).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
}, 90_000);

test("a slow endpoint of tenant A does not hold back tenant B's deliveries", async () => {
  const slow = ref('slow-a');
  await endpointAt(slow);
  stack.sandbox.receiver.inbox(slow).answer = { status: 200, delayMs: 8_000 };
  const fastName = ref('fast-b');
  const res = await stack.api(
    'POST',
    '/v1/webhook-endpoints',
    { url: `${stack.sandboxUrl}/receiver/${fastName}` },
    { auth: TENANT_B_KEY },
  );
  expect(res.status).toBe(201);
  stack.sandbox.receiver.inbox(fastName).secrets = [res.body.secret];

  // Tenant A: four verifications at once, so four deliveries to its slow endpoint (as many as the worker's slots).
  await Promise.all(
    [1, 2, 3, 4].map(() => stack.api('POST', '/v1/verifications', { provider: 'finwave', reference: ref('a') })),
  );
  await until('tenant A requests held', () => stack.sandbox.receiver.inbox(slow).waiting >= 2);
  const b = await stack.api(
    'POST',
    '/v1/verifications',
    { provider: 'finwave', reference: ref('b') },
    { auth: TENANT_B_KEY },
  );
  expect(b.status).toBe(201);
  await until("tenant B's event", () => forVerification(fastName, b.body.id)[0]);
  // B's event arrived while A's endpoint was still holding requests: it did not wait behind them.
  expect(stack.sandbox.receiver.inbox(slow).waiting).toBeGreaterThan(0);
  expect(forVerification(fastName, b.body.id)[0]!.verified).toBe(true);
  // Tenant isolation: B sees only its own endpoint.
  const listed = await stack.api('GET', '/v1/webhook-endpoints', undefined, { auth: TENANT_B_KEY });
  expect(listed.body.data.map((e: { id: string }) => e.id)).toEqual([res.body.id]);
}, 60_000);

async function waitForApi(path: string, ok: (body: any) => boolean, timeoutMs = 30_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    const res = await stack.api('GET', path);
    last = res.body;
    if (res.status === 200 && ok(res.body)) return res.body;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out on ${path}: ${JSON.stringify(last)}`);
}

test('verification.attention (a forged Namirial return) and verification.personal_data_erased are delivered too', async () => {
  const name = ref('attention');
  await endpointAt(name);
  const tag = crypto.randomBytes(3).toString('hex');
  const v = await stack.api('POST', '/v1/verifications', {
    provider: 'namirial',
    reference: ref('nm'),
    applicant: { firstName: `Giulia${tag}`, lastName: `Rossi${tag}`, email: `giulia.${tag}@example.it` },
    options: { recheckInterval: '1s' },
  });
  expect(v.status).toBe(201);
  const base = stack.sandbox.namirial.get(v.body.providerReference)!.ReturnUrl;
  await fetch(`${base}?verifidResult=success`, { redirect: 'manual' });
  await stack.waitFor(v.body.id, (s) => s.timeline.some((t) => t.event === 'return not confirmed yet'));
  await control(stack, `/namirial/_sandbox/enrollments/${v.body.providerReference}/finish`, {
    result: 'NotSupportedDocument',
  });
  const attention = await until('verification.attention', () =>
    forVerification(name, v.body.id).find((r) => r.type === 'verification.attention'),
  );
  expect(attention.verified).toBe(true);
  expect((attention.body as NotificationEvent).data).toMatchObject({
    attention: 'return-contradicted',
    verificationId: v.body.id,
  });

  // An erasure while the workflow runs.
  const open = await stack.api('POST', '/v1/verifications', { provider: 'finwave', reference: ref('fw') });
  const erased = await stack.api('DELETE', `/v1/verifications/${encodeURIComponent(open.body.id)}/personal-data`);
  expect(erased.status).toBe(200);
  const got = await until('verification.personal_data_erased', () => {
    const r = forVerification(name, open.body.id);
    return r.some((x) => x.type === 'verification.personal_data_erased') && r;
  });
  expect(got.map((r) => r.type)).toEqual([
    'verification.created',
    'verification.action_required',
    'verification.personal_data_erased',
  ]);
  expect(got.map((r) => r.sequence)).toEqual([1, 2, 3]);

  // An erasure after the end, while the outbox still lingers: the API hands the event over itself.
  const ended = await stack.waitFor(v.body.id, (s) => s.status === 'completed');
  const before = forVerification(name, v.body.id).length;
  expect((await stack.api('DELETE', `/v1/verifications/${encodeURIComponent(v.body.id)}/personal-data`)).status).toBe(
    200,
  );
  const late = await until('the erasure after the end', () =>
    forVerification(name, v.body.id).find((r) => r.type === 'verification.personal_data_erased'),
  );
  expect(late).toMatchObject({ verified: true, sequence: before + 1, webhookId: `${v.body.id}:${before + 1}` });
  expect((late.body as NotificationEvent).data).toMatchObject({ status: ended.status, outcome: ended.outcome });

  // Long after the end (the outbox run is gone): a new outbox run delivers it, and then ends.
  const fw = await stack.api('POST', '/v1/verifications', { provider: 'finwave', reference: ref('fw') });
  await stack.api('POST', `/v1/verifications/${encodeURIComponent(fw.body.id)}/cancel`, {});
  await stack.waitFor(fw.body.id, (s) => s.status === 'cancelled');
  const outbox = temporal.client.workflow.getHandle(outboxWorkflowId(tenantWorkflowId(TENANT_A, fw.body.id)));
  const seen = await until("the cancelled verification's events", () => {
    const r = forVerification(name, fw.body.id);
    return r.some((x) => x.type === 'verification.completed') && r;
  });
  await outbox.terminate('the linger ended');
  expect((await stack.api('DELETE', `/v1/verifications/${encodeURIComponent(fw.body.id)}/personal-data`)).status).toBe(
    200,
  );
  const erasedLate = await until('the erasure long after the end', () =>
    forVerification(name, fw.body.id).find((r) => r.type === 'verification.personal_data_erased'),
  );
  expect(erasedLate).toMatchObject({ verified: true, sequence: seen.length + 1 });
}, 60_000);

test('a cancel from the Web UI or the CLI is told too: verification.completed (cancelled) arrives, and the outbox goes on', async () => {
  const name = ref('native-cancel');
  await endpointAt(name);
  const created = await stack.api('POST', '/v1/verifications', { provider: 'finwave', reference: ref('fw') });
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  await until('verification.action_required', () =>
    forVerification(name, id).some((r) => r.type === 'verification.action_required'),
  );
  // Not our API's cancel: Temporal's own (what the Web UI's Cancel button and `temporal workflow cancel` send).
  await temporal.client.workflow.getHandle(tenantWorkflowId(TENANT_A, id)).cancel();
  await stack.waitFor(id, (s) => s.status === 'cancelled');
  const got = await until('verification.completed', () => {
    const r = forVerification(name, id);
    return r.some((x) => x.type === 'verification.completed') && r;
  });
  expect(got.map((r) => r.type)).toEqual([
    'verification.created',
    'verification.action_required',
    'verification.completed',
  ]);
  expect(got.every((r) => r.verified)).toBe(true);
  expect((got[2]!.body as NotificationEvent).data).toMatchObject({
    verificationId: id,
    status: 'cancelled',
    reason: 'cancelled from Temporal (Web UI or CLI)',
  });
  // The outbox was not cancelled with its verification: it lingers, as after any ending.
  const outbox = await temporal.client.workflow.getHandle(outboxWorkflowId(tenantWorkflowId(TENANT_A, id))).describe();
  expect(outbox.status.name).toBe('RUNNING');
}, 60_000);

test('an endpoint URL that is not a URL answers 400, never 500 (found by schemathesis)', async () => {
  for (const url of ['', 'not a url', 'ftp://example.com/hook']) {
    const created = await stack.api('POST', '/v1/webhook-endpoints', { url });
    expect(created).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
    const patched = await stack.api('PATCH', '/v1/webhook-endpoints/ep_0000000000000000', { url });
    expect(patched).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
  }
});
