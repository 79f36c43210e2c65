/**
 * A top-level verification terminated natively (Temporal Web UI, `temporal workflow terminate`):
 * the workflow gets no chance to publish an ending, so the API's read path says it: `failed/error`
 * with the operator's reason, never the stale `awaiting_user` it last published. Every vendor, on
 * the dev server, through the whole stack. (A terminated Fourthline signature child: fourthline.test.ts.)
 */
import crypto from 'node:crypto';
import { connectToTestTemporal, type TestTemporal } from './helpers/temporal';
import { API_KEY, startStack, type Stack } from './helpers/stack';

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

const bodies: Record<string, Record<string, unknown>> = {
  finwave: { options: { acceptations: [{ mandatory: true, text: 'I accept the terms' }] } },
  fourthline: {},
  id360: {},
  authenteq: {},
  namirial: { applicant: { firstName: 'Giulia', lastName: 'Rossi', email: 'g@example.it' } },
};

test.each(Object.keys(bodies))(
  "%s: a native terminate reads as failed/error with the operator's reason",
  async (provider) => {
    const reference = `term-${crypto.randomBytes(4).toString('hex')}`;
    const created = await stack.api('POST', '/v1/verifications', { provider, reference, ...bodies[provider] });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const before = await stack.waitFor(id, (s) => s.status === 'awaiting_user');
    expect(before.outcome).toBeNull();

    const why = 'operator: vendor contract paused (ticket OPS-42)';
    await temporal.client.workflow.getHandle(id).terminate(why);

    const res = await fetch(`${stack.apiUrl}/v1/verifications/${encodeURIComponent(id)}`, {
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    expect(res.status).toBe(200);
    const v = (await res.json()) as {
      status: string;
      outcome: string;
      reason: string;
      nextAction: { type: string };
      timeline: { event: string }[];
      updatedAt: string;
    };
    expect(v).toMatchObject({ status: 'failed', outcome: 'error', nextAction: { type: 'restart' } });
    expect(v.reason).toBe(
      `the workflow was terminated from Temporal (Web UI or CLI) before the verification ended: ${why}`,
    );
    expect(v.timeline.at(-1)!.event).toBe('failed');
    expect(Date.parse(v.updatedAt)).toBeGreaterThanOrEqual(Date.parse(before.updatedAt));
    // Read from data the server holds (the published state), not from a worker.
    expect(res.headers.get('verification-source')).toBe('memo');
    const d = await temporal.client.workflow.getHandle(id).describe();
    expect(d.status.name).toBe('TERMINATED');
  },
  60_000,
);
