/**
 * One registry everything derives from (config/vendors/index.ts): a sixth vendor, the toy of
 * test/fixtures/toy/ (a workflow, activities, an API body, a sandbox, one contract), joins with one
 * registry line and runs through the path test/normalized-model.test.ts takes for the real five:
 * created through the API, run by the production worker on its own activity queue against its
 * sandbox, ending with the normalized status × outcome in the API and the search attributes.
 */
import crypto from 'node:crypto';
import { waitForEnd, type PlayTarget } from '../sandboxes/play';
import { bundleWorkflows } from '../workers';
import { vendors, withVendors } from '../config/vendors';
import { connectToTestTemporal, type TestTemporal } from './helpers/temporal';
import { API_KEY, startStack, type Stack } from './helpers/stack';
import { tenantWorkflowId } from '../workflows/shared';
import { toy } from './fixtures/toy';

/** The test's registry: the real one plus the toy (the one line a new vendor adds). */
const registry = withVendors(vendors, { toy });

let temporal: TestTemporal;
let stack: Stack<typeof registry>;
let target: PlayTarget;
const run = crypto.randomBytes(3).toString('hex');
const TENANT = `vr-${run}`;

beforeAll(async () => {
  temporal = await connectToTestTemporal();
  stack = await startStack({
    ...temporal,
    env: { API_KEYS: `tests:${API_KEY}:${TENANT}:integrator+codec` },
    vendors: registry,
    // The real workflows plus the toy's (test/fixtures/toy/workflows/index.ts).
    workflowBundle: await bundleWorkflows(require.resolve('./fixtures/toy/workflows')),
  });
  target = { api: stack.apiUrl, sandbox: stack.sandboxUrl, key: API_KEY };
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await temporal?.close();
});

test('the toy is served by every layer the registry feeds: config, OpenAPI, sandbox', async () => {
  expect(stack.config.vendors).toHaveProperty('toy.sandbox', true);
  const openapi = (await fetch(`${stack.apiUrl}/openapi.json`).then((r) => r.json())) as Record<string, unknown>;
  expect(JSON.stringify(openapi)).toContain('"toy"');
  const index = await fetch(`${stack.sandboxUrl}/`).then((r) => r.text());
  expect(index).toContain('Toy: API base');
  // Unknown fields are refused as for every vendor (strict bodies).
  const bad = await stack.api('POST', '/v1/verifications', { provider: 'toy', reference: `bad-${run}`, extra: 1 });
  expect(bad.status).toBe(400);
});

test.each([
  ['approved', { status: 'completed', outcome: 'approved' }],
  ['rejected', { status: 'completed', outcome: 'rejected' }],
] as const)('a toy verification the user %s ends as the normalized model says', async (decision, expected) => {
  const reference = `vr-${run}-${decision}`;
  const created = await stack.api('POST', '/v1/verifications', { provider: 'toy', reference });
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ id: `toy:${reference}`, provider: 'toy', status: 'awaiting_user' });
  expect(created.body.nextAction).toMatchObject({ type: 'redirect' });

  // The user decides at the toy's sandbox (its control surface, as sandboxes/play.ts plays the real ones).
  const session = created.body.providerReference as string;
  const decided = await fetch(`${stack.sandboxUrl}/toy/_sandbox/sessions/${session}/decide`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ decision }),
  });
  expect(decided.status).toBe(200);

  const v = await waitForEnd(target, created.body.id, 60_000);
  expect({ status: v.status, outcome: v.outcome }).toEqual(expected);
  const desc = await temporal.client.workflow.getHandle(tenantWorkflowId(TENANT, created.body.id)).describe();
  expect(desc.type).toBe('toyVerification');
  expect(desc.taskQueue).toBe(`${stack.config.taskQueuePrefix}-workflows`);
  const sa = desc.searchAttributes as Record<string, unknown[]>;
  expect(sa.VerificationProvider).toEqual(['toy']);
  expect(sa.VerificationStatus).toEqual([expected.status]);
  expect(sa.VerificationOutcome).toEqual([expected.outcome]);
  // Its activities ran on its own queue, `<prefix>-toy`.
  const history = await temporal.client.workflow.getHandle(tenantWorkflowId(TENANT, created.body.id)).fetchHistory();
  const queues = (history.events ?? [])
    .map((e) => e.activityTaskScheduledEventAttributes?.taskQueue?.name)
    .filter(Boolean);
  expect(new Set(queues)).toEqual(new Set([`${stack.config.taskQueuePrefix}-toy`]));
});
