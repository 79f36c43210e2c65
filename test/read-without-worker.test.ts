/**
 * Reading never needs a worker (issue 9, point 6): with every worker of the stack stopped, a closed
 * verification is answered from the workflow's result and an open one from the state the workflow
 * published in its (encrypted) memo. A verification waiting on its timers is read from that memo
 * with the workers up too: no replay (issue 14), and the same answer as the state query.
 */
import crypto from 'node:crypto';
import { STATE_MEMO_KEY, stateQuery } from '../workflows/shared';
import { view } from '../client/verifications';
import { connectToTestTemporal, type TestTemporal } from './helpers/temporal';
import { control, startStack, type Stack } from './helpers/stack';

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

const ref = (name: string) => `${name}-${crypto.randomBytes(4).toString('hex')}`;

async function timedGet(path: string) {
  const t0 = performance.now();
  const res = await fetch(`${stack.apiUrl}${path}`, { headers: { authorization: 'Bearer test-key-0123456789abcdef' } });
  const ms = performance.now() - t0;
  return { status: res.status, source: res.headers.get('verification-source'), body: (await res.json()) as any, ms };
}

test('a verification waiting on its timers is read from its current memo, the same as the state query, after each change', async () => {
  const id = `finwave:${ref('parked')}`;
  const created = await stack.api('POST', '/v1/verifications', { provider: 'finwave', reference: id.slice(8) });
  expect(created.status).toBe(201);
  const onboarding = created.body.providerReference as string;
  // What the state query answers, as the API would send it (JSON).
  const queried = async () =>
    JSON.parse(JSON.stringify(view(await stack.client.workflow.getHandle(id).query(stateQuery))));
  // The read each time the flow has handled what came: the memo, equal to the query's answer.
  const settled = async (until: (body: any) => boolean) => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const r = await timedGet(`/v1/verifications/${id}`);
      if (r.source === 'memo' && until(r.body)) return r;
      if (Date.now() > deadline)
        throw new Error(`no current memo read within 15 s; last: ${r.source} ${JSON.stringify(r.body).slice(0, 300)}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  };
  const parked = await settled((b) => b.providerStatus === 'CREATED');
  expect(parked.body).toEqual(await queried());

  // The user starts (a webhook, a read, a timeline entry without a status change of ours), then the
  // sandbox sends the same webhook again (a note only): each change reaches the memo.
  await control(stack, `/finwave/_sandbox/onboardings/${onboarding}/start`);
  const started = await settled((b) => b.providerStatus === 'INPROCESS');
  expect(started.body).toEqual(await queried());
  const entries = started.body.timeline.length;
  await control(stack, `/finwave/_sandbox/onboardings/${onboarding}/webhook`, { result: 'INPROCESS' });
  const noted = await settled((b) => b.timeline.length > entries);
  expect(noted.body.timeline.at(-1)).toMatchObject({ event: 'webhook received' });
  expect(noted.body).toEqual(await queried());

  // The same webhook once more: a repeat of the last entry notes nothing (the history has the signal).
  const signals = async () =>
    ((await stack.client.workflow.getHandle(id).fetchHistory()).events ?? []).filter(
      (e) => e.workflowExecutionSignaledEventAttributes,
    ).length;
  const before = await signals();
  await control(stack, `/finwave/_sandbox/onboardings/${onboarding}/webhook`, { result: 'INPROCESS' });
  for (const deadline = Date.now() + 10_000; (await signals()) === before;) {
    if (Date.now() > deadline) throw new Error('the repeated webhook never reached the workflow');
    await new Promise((res) => setTimeout(res, 100));
  }
  const repeated = await settled(() => true);
  expect(repeated.body.timeline).toEqual(noted.body.timeline);
  await stack.api('POST', `/v1/verifications/${id}/cancel`, {});
});

test('with every worker stopped, a closed verification answers 200 from its result and an open one within 2 s from its memo', async () => {
  // A closed one: the sandbox plays the user, the flow ends approved.
  const closedRef = ref('closed');
  const closedId = `finwave:${closedRef}`;
  expect((await stack.api('POST', '/v1/verifications', { provider: 'finwave', reference: closedRef })).status).toBe(
    201,
  );
  const created = await stack.api('GET', `/v1/verifications/${closedId}`);
  await control(stack, `/finwave/_sandbox/onboardings/${created.body.providerReference}/finish`, {
    scenario: 'approved',
  });
  const finished = await stack.waitFor(closedId, (s) => s.status === 'completed');
  expect(finished.outcome).toBe('approved');

  // An open one, waiting for its user.
  const openRef = ref('open');
  const openId = `finwave:${openRef}`;
  const open = await stack.api('POST', '/v1/verifications', { provider: 'finwave', reference: openRef });
  expect(open.body).toMatchObject({ status: 'awaiting_user', nextAction: { type: 'redirect' } });

  // The open workflow published its state in the memo, encrypted: the raw memo payload is not JSON.
  const raw = await temporal.connection.workflowService.describeWorkflowExecution({
    namespace: 'default',
    execution: { workflowId: openId },
  });
  const memoPayload = raw.workflowExecutionInfo?.memo?.fields?.[STATE_MEMO_KEY];
  expect(memoPayload).toBeTruthy();
  expect(Buffer.from(memoPayload!.data!).toString('utf8')).not.toContain(openRef);

  // An open Fourthline case: its signature view is published next to the state.
  const caseRes = await stack.api('POST', '/v1/verifications', { provider: 'fourthline', reference: ref('case') });
  expect(caseRes.body).toMatchObject({ status: 'awaiting_user', nextAction: { type: 'action', action: 'identity' } });
  const caseId = caseRes.body.id as string;
  const signatureLive = await stack.api('GET', `/v1/verifications/${caseId}/signature`);
  expect(signatureLive.status).toBe(200);

  // What the Web UI's workflow page shows (user metadata): the static summary and details given at
  // start, the current details the workflow keeps up to date. No personal data, no vendor link.
  const description = await temporal.client.workflow.getHandle(openId).describe();
  expect(await description.staticSummary()).toBe('Finwave onboarding · started through the API');
  expect(await description.staticDetails()).toContain('Started with API key id `tests`');
  const metadata = await temporal.client.workflow
    .getHandle(openId)
    .query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  expect(metadata.currentDetails).toBe(
    "**Finwave onboarding** · awaiting user · vendor status `CREATED` · waiting for the user at the vendor's pages",
  );

  await stack.stopWorkers();

  const closed = await timedGet(`/v1/verifications/${closedId}`);
  expect(closed).toMatchObject({ status: 200, source: 'result' });
  expect(closed.body).toEqual(finished);

  const stillOpen = await timedGet(`/v1/verifications/${openId}`);
  expect(stillOpen).toMatchObject({ status: 200, source: 'memo' });
  expect(stillOpen.body).toMatchObject({
    id: openId,
    status: 'awaiting_user',
    providerReference: open.body.providerReference,
    nextAction: open.body.nextAction,
  });
  expect(stillOpen.ms).toBeLessThan(2_000);

  const caseOpen = await timedGet(`/v1/verifications/${caseId}`);
  expect(caseOpen).toMatchObject({
    status: 200,
    source: 'memo',
    body: { status: 'awaiting_user', nextAction: { action: 'identity' } },
  });
  const signature = await timedGet(`/v1/verifications/${caseId}/signature`);
  expect(signature.status).toBe(200);
  expect(signature.body).toEqual(signatureLive.body);
  expect(signature.ms).toBeLessThan(2_000);

  // The other read routes over the same path.
  expect((await stack.api('GET', `/v1/verifications/${closedId}/audit`)).status).toBe(200);
  const evidence = await stack.api('GET', `/v1/verifications/${closedId}/evidence`);
  expect(evidence.status).toBe(200);
  expect(JSON.stringify(evidence.body)).toContain(finished.evidence[0]!.sha256);
  expect((await stack.api('GET', `/v1/verifications/finwave:${ref('unknown')}`)).status).toBe(404);
  console.log(
    `GET without a worker: closed ${closed.ms.toFixed(0)} ms (result), open ${stillOpen.ms.toFixed(0)} ms (memo)`,
  );
});
