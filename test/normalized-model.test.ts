/**
 * One model across vendors: every ending of every vendor that its sandbox plays (sandboxes/play.ts, the
 * scripted users of `npm run demo`), through the real stack, ends with the normalized status × outcome
 * the table of docs/api.md gives for it ("What the API answers"), in the API and in the search attributes.
 * A vendor's rejection is `completed/rejected` for all five.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SCENARIOS, waitForEnd, type PlayTarget } from '../sandboxes/play';
import { connectToTestTemporal, type TestTemporal } from './helpers/temporal';
import { API_KEY, startStack, type Stack } from './helpers/stack';
import { endpointRegistryWorkflowId } from '../workflows/notify-shared';
import { tenantWorkflowId } from '../workflows/shared';

let temporal: TestTemporal;
let stack: Stack;
let target: PlayTarget;
const run = crypto.randomBytes(3).toString('hex');
/** A tenant of this file only (its endpoint registry must not outlive the stack in a shared tenant). */
const TENANT = `nm-${run}`;
/** The integrator's endpoint: the sandbox receiver, verifying every notification with the secret. */
const INBOX = `nm-${run}`;

beforeAll(async () => {
  temporal = await connectToTestTemporal();
  stack = await startStack({ ...temporal, env: { API_KEYS: `tests:${API_KEY}:${TENANT}:integrator+codec` } });
  target = { api: stack.apiUrl, sandbox: stack.sandboxUrl, key: API_KEY };
  const endpoint = await stack.api('POST', '/v1/webhook-endpoints', { url: `${stack.sandboxUrl}/receiver/${INBOX}` });
  expect(endpoint.status).toBe(201);
  stack.sandbox.receiver.inbox(INBOX).secrets = [endpoint.body.secret];
});

afterAll(async () => {
  await temporal?.client.workflow
    .getHandle(endpointRegistryWorkflowId(TENANT))
    .terminate('test over')
    .catch(() => undefined);
  await stack?.stop();
  await temporal?.close();
});

/** The rows of the table in docs/api.md: `| \`completed\` | \`rejected\` | …`. */
function documentedEndings(): Set<string> {
  const doc = fs.readFileSync(path.join(__dirname, '..', 'docs', 'api.md'), 'utf8');
  const rows = [...doc.matchAll(/^\| `(\w+)` \| `(\w+|null)` \|/gm)].map((m) => `${m[1]}/${m[2]}`);
  return new Set(rows);
}

test('the table of docs/api.md lists every ending, and a rejection is completed/rejected', () => {
  const table = documentedEndings();
  for (const s of SCENARIOS) expect(table).toContain(`${s.expected.status}/${s.expected.outcome}`);
  expect(table).toContain('completed/rejected');
  expect(table).not.toContain('failed/rejected');
});

test('every vendor has scenarios for approved and rejected', () => {
  for (const p of ['finwave', 'fourthline', 'id360', 'authenteq', 'namirial']) {
    const outcomes = SCENARIOS.filter((s) => s.provider === p).map((s) => s.expected.outcome);
    expect(outcomes).toEqual(expect.arrayContaining(['approved', 'rejected']));
  }
});

test.each(SCENARIOS.map((s) => [`${s.provider} ${s.name}`, s] as const))(
  '%s ends as the table says, in the API, the search attributes and the notifications',
  async (_label, s) => {
    const lines: string[] = [];
    const id = await s.play(target, `nm-${run}-${s.name}`, (l) => lines.push(l));
    const v = await waitForEnd(target, id, 60_000);
    expect({ id, status: v.status, outcome: v.outcome }).toEqual({ id, ...s.expected });
    // The list in the Web UI shows the same: VerificationStatus / VerificationOutcome.
    const sa = (await temporal.client.workflow.getHandle(tenantWorkflowId(TENANT, id)).describe())
      .searchAttributes as Record<string, unknown[]>;
    expect(sa.VerificationStatus).toEqual([s.expected.status]);
    if (s.expected.outcome) expect(sa.VerificationOutcome).toEqual([s.expected.outcome]);
    // What the integrator does next: nothing after an approval, a new verification after the rest.
    if (s.expected.outcome === 'approved') expect(v.nextAction.type).toBe('none');

    // The integrator's backend is told: every event signed (verified by the standardwebhooks library at
    // the receiver), each sequence number once, in order, from created to completed with this ending.
    const deadline = Date.now() + 30_000;
    const received = () => stack.sandbox.receiver.inbox(INBOX).received.filter((r) => r.verificationId === id);
    while (!received().some((r) => r.type === 'verification.completed') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 150));
    const events = received();
    expect(events.every((e) => e.verified)).toBe(true);
    expect(events.map((e) => e.sequence)).toEqual(events.map((_e, i) => i + 1));
    expect(events[0]?.type).toBe('verification.created');
    expect(events.at(-1)).toMatchObject({
      type: 'verification.completed',
      body: { data: { verificationId: id, status: s.expected.status, outcome: s.expected.outcome } },
    });
  },
  90_000,
);
