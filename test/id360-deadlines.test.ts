/**
 * ID360's workflow durations, for real, on the Java time-skipping test server: the 25-hour overall
 * deadline and the 15-minute polling fallback, with the defaults the API gives every verification,
 * through the real activities and the sandbox. (The session's own 13-minute keep-alive runs on the
 * worker's clock, which time skipping does not move: test/id360-session.test.ts drives that one.)
 */
import crypto from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { AppConfig } from '../config';
import type { SandboxServer } from '../sandboxes/server';
import { startTimeSkippingService, type TimeSkippingService } from './helpers/time-skipping';
import { id360Input, id360Options } from '../client/providers/id360';
import { id360Enrollment } from '../workflows/id360';
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

function start(reference: string, options: Record<string, unknown>) {
  const id = `id360:${reference}`;
  const input = id360Input(id, reference, {}, {}, id360Options.parse(options)); // the API's defaults
  return env.client.workflow.start(id360Enrollment, { workflowId: id, taskQueue: `${config.taskQueuePrefix}-id360`, args: [input] });
}

const hoursOf = (s: VerificationState) => (Date.parse(s.updatedAt) - Date.parse(s.createdAt)) / 3_600_000;

test('the API defaults are the real durations', () => {
  const o = id360Options.parse({});
  expect(o).toEqual({ mode: 'api', pollInterval: '15 minutes', deadline: '25 hours' });
});

test('browser mode, a user who never comes: expired after exactly 25 hours, ID360 read every 15 minutes', async () => {
  const handle = await start(`never-${crypto.randomBytes(3).toString('hex')}`, { mode: 'browser', returnUrl: 'https://integrator.example/back' });
  const state: VerificationState = await handle.result();
  expect(state).toMatchObject({ status: 'expired', outcome: 'expired', reason: 'no final status from ID360 within 25 hours' });
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
