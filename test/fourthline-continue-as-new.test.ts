/**
 * A Fourthline case that stays pending for months continues as new, on the Java time-skipping test
 * server with the whole stack: the API shows one verification and one timeline, and a case webhook
 * that comes as a run continues as new still wakes the next run.
 *
 * Its own file (its own test server): in test/fourthline-deadlines.test.ts, after the other long
 * sleeps, the test server sometimes stopped skipping time for minutes (temporal-test-server 1.38.0).
 */
import crypto from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { control, type Stack } from './helpers/stack';
import { useTimeSkippingStack } from './helpers/time-skipping-stack';
import { clearOfDueTimers, noActivityRunning } from './helpers/temporal';
import { fourthlineFlow } from './helpers/fourthline';
import { runSizes } from './helpers/history-size';
import { fourthlineInput, fourthlineOptions } from '../client/providers/fourthline';
import { fourthlineCase } from '../workflows/fourthline';
import { workflowTaskQueue } from '../config';

let env: TestWorkflowEnvironment;
let stack: Stack;

useTimeSkippingStack(
  (e, s) => {
    env = e;
    stack = s;
  },
  // The vendor's processing time each test sets, back to the sandbox's default.
  { afterEach: (s) => void (s.sandbox.fourthline.processingMs = 200) },
);

const ref = (name: string) => `flcan-${name}-${crypto.randomBytes(4).toString('hex')}`;

test('a case pending for 80 days: continues as new, then signs; the API shows one verification and one timeline', async () => {
  stack.sandbox.fourthline.processingMs = 365 * 24 * 3_600_000; // the vendor holds the case until told
  const reference = ref('long');
  const id = `fourthline:${reference}`;
  const input = {
    ...fourthlineInput(id, reference, fourthlineOptions.parse({ caseDeadline: '90 days', pollInterval: '6 hours' })),
    pollsPerRun: 40,
  };
  await env.client.workflow.start(fourthlineCase, {
    workflowId: id,
    taskQueue: workflowTaskQueue(stack.config),
    args: [input],
  });
  const f = fourthlineFlow(stack);
  await stack.waitFor(id, (s) => s.status === 'awaiting_user');
  expect((await f.identity(id, 'completed')).status).toBe(200);
  const first = await env.client.workflow.getHandle(id).describe();
  // 80 days is a whole number of runs (40 polls of 6 hours each): the case completes 3 hours into the
  // next run, not at the boundary (the webhook at the boundary has a test of its own, below).
  await env.sleep('80 days');
  await env.sleep('3 hours');
  await clearOfDueTimers(env, stack.client, id);
  const providerReference = (await stack.api('GET', `/v1/verifications/${id}`)).body.providerReference as string;
  expect((await control(stack, `/fourthline/_sandbox/verifications/${providerReference}/complete`)).status).toBe(200);
  stack.sandbox.fourthline.processingMs = 200;
  await env.sleep('7 hours');
  await clearOfDueTimers(env, stack.client, id);
  const attempt = await f.waitPhase(id, 'awaiting_documents');
  await clearOfDueTimers(env, stack.client, attempt.workflowId);
  await f.signUpToApproval(id);
  expect((await f.approveAndConfirm(id)).status).toBe(200);
  const done = await stack.waitFor(id, (s) => s.status === 'completed');
  expect(done).toMatchObject({ outcome: 'approved', providerStatus: 'signed' });
  const later = await env.client.workflow.getHandle(id).describe();
  expect(later.runId).not.toBe(first.runId);
  // One timeline: what the first run recorded is still there, in order, with what came after. (Polls
  // that saw the case still pending add no entry: the timeline moves on change only.)
  const events = done.timeline.map((t) => t.event);
  expect(events[0]).toBe('created');
  expect(events).toEqual(
    expect.arrayContaining([
      'case created',
      'identity uploaded',
      'case webhook received',
      'signature attempt started',
      'completed: approved',
    ]),
  );
  // The read that saw the case completed: after the webhook, or by the poll the test server fired as the
  // sleep ended (both happen; the webhook across continue-as-new has the test below).
  const read = events.findIndex(
    (e, i) => i > events.indexOf('identity uploaded') && /^case read (after webhook|by polling)$/.test(e),
  );
  expect(read).toBeGreaterThan(-1);
  expect(read).toBeLessThan(events.indexOf('signature attempt started'));
  expect(events.indexOf('identity uploaded')).toBeLessThan(events.indexOf('signature attempt started'));
  expect(events.filter((e) => e === 'created')).toHaveLength(1);
  expect(later.searchAttributes.VerificationStatus).toEqual(['completed']);
  const sizes = await runSizes(env.client, id);
  console.log(`fourthline 80-day pending case, per run: ${JSON.stringify(sizes)}`);
  expect(sizes.length).toBeGreaterThanOrEqual(2);
  for (const s of sizes) expect(s.events).toBeLessThan(5_000);
}, 600_000);

test('a case webhook that comes as the run continues as new wakes the next run (not its next poll, 6 hours later)', async () => {
  stack.sandbox.fourthline.processingMs = 365 * 24 * 3_600_000;
  const reference = ref('nudge-can');
  const id = `fourthline:${reference}`;
  // One poll per run: the run continues as new right after its first read of the case.
  const input = {
    ...fourthlineInput(id, reference, fourthlineOptions.parse({ pollInterval: '6 hours' })),
    pollsPerRun: 1,
  };
  const first = await env.client.workflow.start(fourthlineCase, {
    workflowId: id,
    taskQueue: workflowTaskQueue(stack.config),
    args: [input],
  });
  const f = fourthlineFlow(stack);
  await stack.waitFor(id, (s) => s.status === 'awaiting_user');
  expect((await f.identity(id, 'completed')).status).toBe(200);
  await stack.waitFor(id, (s) => s.status === 'processing');
  const providerReference = (await stack.api('GET', `/v1/verifications/${id}`)).body.providerReference as string;
  // The poll's read answers "pending", late: the case completes (and its webhook comes) in between.
  const faults = stack.sandbox.fourthline.faults;
  faults.add({
    mode: 'answerLate',
    delayMs: 5_000,
    times: 1,
    method: 'GET',
    path: `/v1/verifications/${providerReference}`,
    retryAfterSeconds: 1,
    code: 'x',
  });
  const injected = faults.injected.length;
  await env.sleep('6 hours');
  const until = Date.now() + 20_000;
  while (faults.injected.length === injected && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  expect(faults.injected.length).toBe(injected + 1);
  expect((await control(stack, `/fourthline/_sandbox/verifications/${providerReference}/complete`)).status).toBe(200);
  stack.sandbox.fourthline.processingMs = 200;
  // Time stands still from here: only the webhook carried into the next run can start the signature.
  const attempt = await f.waitPhase(id, 'awaiting_documents');
  expect(attempt.attempt).toBe(1);
  const now = await env.client.workflow.getHandle(id).describe();
  expect(now.runId).not.toBe(first.firstExecutionRunId);
  const timeline = (await stack.api('GET', `/v1/verifications/${id}`)).body.timeline.map(
    (t: { event: string }) => t.event,
  );
  expect(timeline).toEqual(
    expect.arrayContaining(['case webhook received', 'case read after webhook', 'signature attempt started']),
  );
  await noActivityRunning(stack.client, attempt.workflowId);
  await env.client.workflow.getHandle(id).cancel();
  await stack.waitFor(id, (s) => s.status === 'cancelled');
}, 300_000);
