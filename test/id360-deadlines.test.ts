/**
 * ID360's workflow durations, for real, on the Java time-skipping test server: the 25-hour overall
 * deadline and the 15-minute polling fallback, with the defaults the API gives every verification,
 * through the real activities and the sandbox. (The session's own 13-minute keep-alive runs on the
 * worker's clock, which time skipping does not move: test/id360-session.test.ts drives that one.)
 */
import crypto from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { workflowTaskQueue, type AppConfig } from '../config';
import type { SandboxServer } from '../sandboxes/server';
import { startTimeSkippingService, type TimeSkippingService } from './helpers/time-skipping';
import { id360Input, id360Options } from '../client/providers/id360';
import { id360Enrollment } from '../workflows/id360';
import { POLLS_PER_RUN } from '../workflows/run-length';
import { runSizes } from './helpers/history-size';
import type { VerificationState } from '../workflows/shared';

let service: TimeSkippingService;
let env: TestWorkflowEnvironment;
let sandbox: SandboxServer;
let config: AppConfig;

beforeAll(async () => {
  service = await startTimeSkippingService({ id360: { webhooks: { maxAttempts: 1, firstRetryMs: 10 } } });
  ({ env, sandbox, config } = service);
});

afterAll(async () => {
  await service?.stop();
});

function start(reference: string, options: Record<string, unknown>, extra: { pollsPerRun?: number } = {}) {
  const id = `id360:${reference}`;
  const input = { ...id360Input(id, reference, {}, {}, id360Options.parse(options)), ...extra }; // the API's defaults
  return env.client.workflow.start(id360Enrollment, {
    workflowId: id,
    taskQueue: workflowTaskQueue(config),
    args: [input],
  });
}

const hoursOf = (s: VerificationState) => (Date.parse(s.updatedAt) - Date.parse(s.createdAt)) / 3_600_000;

test('the API defaults are the real durations', () => {
  const o = id360Options.parse({});
  expect(o).toEqual({ mode: 'api', pollInterval: '15 minutes', deadline: '25 hours' });
});

test('browser mode, a user who never comes: expired after exactly 25 hours, ID360 read every 15 minutes', async () => {
  const handle = await start(`never-${crypto.randomBytes(3).toString('hex')}`, {
    mode: 'browser',
    returnUrl: 'https://integrator.example/back',
  });
  const state: VerificationState = await handle.result();
  expect(state).toMatchObject({
    status: 'expired',
    outcome: 'expired',
    reason: 'no final status from ID360 within 25 hours',
  });
  expect(hoursOf(state)).toBeGreaterThanOrEqual(25);
  expect(hoursOf(state)).toBeLessThan(25.01);
  // Seen from ID360's side: one read every 15 minutes; the last slot is the deadline itself.
  const e = sandbox.id360.find(state.providerReference!)!;
  expect(e.reads).toBe((25 * 60) / 15 - 1);
});

test('API mode, a caller who never uploads: expired after 25 hours, and no polling before finalize', async () => {
  const handle = await start(`idle-${crypto.randomBytes(3).toString('hex')}`, {});
  // While it waits, the nextAction names the step and the deadline.
  let waiting: VerificationState | undefined;
  for (let i = 0; i < 100 && waiting?.status !== 'awaiting_user'; i++) {
    waiting = await handle.query<VerificationState>('state');
    if (waiting.status !== 'awaiting_user') await new Promise((r) => setTimeout(r, 100));
  }
  expect(waiting!.nextAction).toMatchObject({ type: 'action', action: 'consent' });
  const deadline = (waiting!.nextAction as { deadline: string }).deadline;
  expect(Date.parse(deadline) - Date.parse(waiting!.createdAt)).toBe(25 * 3_600_000);

  const state: VerificationState = await handle.result();
  expect(state).toMatchObject({ status: 'expired', outcome: 'expired', nextAction: { type: 'restart' } });
  expect(hoursOf(state)).toBeGreaterThanOrEqual(25);
  expect(hoursOf(state)).toBeLessThan(25.01);
  expect(sandbox.id360.find(state.providerReference!)!.reads).toBe(0);
});

test('the worst case the API allows (1-minute polls, 30-day deadline) continues as new: every run stays small, one verification', async () => {
  // The API's floor and ceiling: 43,200 polls in 30 days, past Temporal's 51,200 events in one run without continue-as-new.
  const handle = await start(`worst-${crypto.randomBytes(3).toString('hex')}`, {
    mode: 'browser',
    returnUrl: 'https://integrator.example/back',
    pollInterval: '1 minute',
    deadline: '30 days',
  });
  // Long enough for one full run (POLLS_PER_RUN polls) and part of the next.
  await env.sleep(`${POLLS_PER_RUN + 60} minutes`);
  const running: VerificationState = await handle.query('state');
  expect(running.status).toBe('awaiting_user');
  const e = sandbox.id360.find(running.providerReference!)!;
  expect(sandbox.id360.complete(e)).toBe(true); // the user does the steps in ID360's pages
  const state: VerificationState = await handle.result();
  expect(state).toMatchObject({ status: 'completed', outcome: 'approved' });
  // One verification across the runs: the timeline starts at the creation and says each thing once.
  expect(state.timeline[0]!.event).toBe('created');
  expect(state.timeline.filter((t) => t.event === 'enrollment created')).toHaveLength(1);
  expect(state.timeline.map((t) => t.event)).toEqual(expect.arrayContaining(['completed: approved']));
  const sizes = await runSizes(env.client, handle.workflowId);
  console.log(`id360 at 1-minute polls, per run: ${JSON.stringify(sizes)}`);
  expect(sizes.length).toBeGreaterThanOrEqual(2);
  // The first run is a full one: POLLS_PER_RUN polls, the largest a run gets whatever the deadline.
  expect(sizes[0]!.events).toBeGreaterThan(POLLS_PER_RUN * 5);
  for (const s of sizes) expect(s.events).toBeLessThan(5_000);
  expect((await handle.describe()).searchAttributes.VerificationStatus).toEqual(['completed']);
}, 600_000);

test('the absolute deadline is carried across runs that continued as new', async () => {
  const handle = await start(
    `carried-${crypto.randomBytes(3).toString('hex')}`,
    { mode: 'browser', returnUrl: 'https://integrator.example/back', pollInterval: '1 minute', deadline: '3 hours' },
    { pollsPerRun: 20 },
  );
  const state: VerificationState = await handle.result();
  // The absolute deadline is carried: 3 hours from creation, not from the last run's start.
  expect(state).toMatchObject({
    status: 'expired',
    outcome: 'expired',
    reason: 'no final status from ID360 within 3 hours',
  });
  expect(hoursOf(state)).toBeGreaterThanOrEqual(3);
  expect(hoursOf(state)).toBeLessThan(3.01);
  expect((await runSizes(env.client, handle.workflowId)).length).toBeGreaterThanOrEqual(8);
  // The vendor read once a minute across every run, the last slot being the deadline itself.
  expect(sandbox.id360.find(state.providerReference!)!.reads).toBe(3 * 60 - 1);
}, 300_000);
