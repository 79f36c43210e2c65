/**
 * Finwave's durations, for real, on the Java time-skipping test server: the 72-hour overall deadline
 * and the 15-minute reconciliation poll, with the defaults the API gives every verification.
 */
import crypto from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { workflowTaskQueue, type AppConfig } from '../config';
import type { SandboxServer } from '../sandboxes/server';
import { startTimeSkippingService, type TimeSkippingService } from './helpers/time-skipping';
import { clearOfDueTimers, noActivityRunning } from './helpers/temporal';
import { finwaveInput, finwaveOptions } from '../client/providers/finwave';
import { finwaveOnboarding } from '../workflows/finwave';
import type { VerificationState } from '../workflows/shared';
import { runSizes } from './helpers/history-size';
import type { temporal } from '@temporalio/proto';

let service: TimeSkippingService;
let env: TestWorkflowEnvironment;
let sandbox: SandboxServer;
let config: AppConfig;

beforeAll(async () => {
  service = await startTimeSkippingService({ finwave: { webhooks: { maxAttempts: 1, firstRetryMs: 10 } } });
  ({ env, sandbox, config } = service);
});

afterAll(async () => {
  await service?.stop();
});

function start(reference: string, extra: { pollsPerRun?: number } = {}) {
  const id = `finwave:${reference}`;
  const input = { ...finwaveInput(id, reference, {}, finwaveOptions.parse({})), ...extra }; // the API's defaults
  return env.client.workflow.start(finwaveOnboarding, {
    workflowId: id,
    taskQueue: workflowTaskQueue(config),
    args: [input],
  });
}

/** Reads of the result the workflow made, over every run (the timeline notes only changes). */
async function resultReads(workflowId: string): Promise<number> {
  let n = 0;
  const d = await env.client.workflow.getHandle(workflowId).describe();
  let runId: string | null | undefined = d.raw.workflowExecutionInfo?.firstRunId || d.runId;
  while (runId) {
    const events: temporal.api.history.v1.IHistoryEvent[] =
      (await env.client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
    n += events.filter(
      (e: temporal.api.history.v1.IHistoryEvent) =>
        e.activityTaskScheduledEventAttributes?.activityType?.name === 'finwaveGetResult',
    ).length;
    const last: temporal.api.history.v1.IHistoryEvent | undefined = events[events.length - 1];
    runId = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
  }
  return n;
}

const onboardingOf = (workflowId: string) =>
  [...sandbox.finwave.onboardings.values()].find((o) => `finwave:${o.customId}` === workflowId)!;

test('the API defaults are the real durations', () => {
  const o = finwaveOptions.parse({});
  expect(o.deadline).toBe('72 hours');
  expect(o.pollInterval).toBe('15 minutes');
});

test('a user who never comes back: expired after exactly 72 hours, reconciled every 15 minutes', async () => {
  const handle = await start(`never-${crypto.randomBytes(3).toString('hex')}`);
  const state: VerificationState = await handle.result();
  // The workflow's own clock (the test server's runs on after the workflow closes).
  const elapsedH = (Date.parse(state.updatedAt) - Date.parse(state.createdAt)) / 3_600_000;
  expect(state).toMatchObject({
    status: 'expired',
    outcome: 'expired',
    reason: 'no final result from Finwave within 72 hours',
  });
  expect(elapsedH).toBeGreaterThanOrEqual(72);
  expect(elapsedH).toBeLessThan(72.01);
  expect(await resultReads(handle.workflowId)).toBe((72 * 60) / 15 - 1); // a read every 15 minutes; the last slot is the deadline itself
  // The timeline notes changes only: no entry per poll.
  expect(state.timeline.filter((t) => t.event === 'result read by polling')).toHaveLength(0);
  console.log(
    `finwave 72-hour expired flow, per run: ${JSON.stringify(await runSizes(env.client, handle.workflowId))}`,
  );
}, 300_000);

test('webhooks lost, user finishes after 47 hours: found by the next poll, within 15 minutes', async () => {
  const handle = await start(`late-${crypto.randomBytes(3).toString('hex')}`);
  await env.sleep('47 hours');
  const onboarding = [...sandbox.finwave.onboardings.values()].find(
    (o) => `finwave:${o.customId}` === handle.workflowId,
  )!;
  expect(onboarding).toBeDefined();
  sandbox.finwave.finish(onboarding, 'approved');
  const finishedAt = await env.currentTimeMs();
  const state: VerificationState = await handle.result();
  expect(state).toMatchObject({ status: 'completed', outcome: 'approved' });
  const found = Date.parse(
    state.timeline.find((t) => t.event === 'result read by polling' && t.providerStatus === 'FINISHED')?.at ??
      state.updatedAt,
  );
  expect(found - finishedAt).toBeLessThanOrEqual(15 * 60_000);
  expect(state.evidence.map((e) => e.kind)).toContain('finwave-evidence-zip');
}, 300_000);

test('Finwave down for 3 hours in a 72-hour flow: the flow waits it out and ends approved once it is back', async () => {
  const handle = await start(`outage-${crypto.randomBytes(3).toString('hex')}`);
  await env.sleep('1 hour');
  sandbox.finwave.faults.add({
    mode: '5xx',
    times: 1000,
    path: '/integrations/',
    method: 'GET',
    delayMs: 0,
    retryAfterSeconds: 1,
    code: 'SANDBOX_REJECTED',
  });
  sandbox.finwave.finish(onboardingOf(handle.workflowId), 'approved'); // the user finishes during the outage
  await env.sleep('3 hours');
  expect(sandbox.finwave.faults.injected.length).toBeGreaterThan(0);
  const during = await handle.query('state');
  expect(during).toMatchObject({ status: 'awaiting_user', outcome: null });
  sandbox.finwave.faults.clear();
  const state: VerificationState = await handle.result();
  expect(state).toMatchObject({ status: 'completed', outcome: 'approved' });
  const events = state.timeline.map((t) => t.event);
  expect(events.filter((e) => e === 'vendor unreachable')).toHaveLength(1); // once, on change
  expect(events.filter((e) => e === 'vendor reachable again')).toHaveLength(1);
  expect(state.timeline.find((t) => t.event === 'vendor unreachable')!.detail).toMatch(
    /^Finwave unreachable since \d{4}-/,
  );
}, 300_000);

test('a long wait continues as new: one verification, one timeline, the deadline carried across', async () => {
  const handle = await start(`can-${crypto.randomBytes(3).toString('hex')}`, { pollsPerRun: 20 });
  await env.sleep('12 hours');
  sandbox.finwave.finish(onboardingOf(handle.workflowId), 'approved');
  const state: VerificationState = await handle.result();
  expect(state).toMatchObject({ status: 'completed', outcome: 'approved' });
  expect(state.timeline[0]!.event).toBe('created');
  expect(state.timeline.map((t) => t.event)).toEqual(
    expect.arrayContaining(['onboarding created', 'completed: approved']),
  );
  const sizes = await runSizes(env.client, handle.workflowId);
  expect(sizes.length).toBeGreaterThanOrEqual(2);
  expect(
    (await env.client.workflow.getHandle(handle.workflowId).describe()).searchAttributes.VerificationStatus,
  ).toEqual(['completed']);
}, 300_000);

test('a native cancel (Web UI / temporal CLI) ends the flow cancelled, search attributes included', async () => {
  const handle = await start(`native-${crypto.randomBytes(3).toString('hex')}`);
  await env.sleep('2 hours');
  // The 15-minute polls fall on the sleep's end: see the helpers' test-server notes.
  await clearOfDueTimers(env, env.client, handle.workflowId);
  await noActivityRunning(env.client, handle.workflowId);
  await handle.cancel();
  const state: VerificationState = await handle.result();
  expect(state).toMatchObject({ status: 'cancelled', reason: 'cancelled from Temporal (Web UI or CLI)' });
  const d = await handle.describe();
  expect(d.status.name).toBe('COMPLETED');
  expect(d.searchAttributes.VerificationStatus).toEqual(['cancelled']);
}, 120_000);
