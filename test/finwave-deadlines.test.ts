/**
 * Finwave's durations, for real, on the Java time-skipping test server: the 72-hour overall deadline
 * and the 15-minute reconciliation poll, with the defaults the API gives every verification.
 */
import crypto from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { AppConfig } from '../config';
import type { SandboxServer } from '../sandboxes/server';
import { startTimeSkippingService, type TimeSkippingService } from './helpers/time-skipping';
import { finwaveInput, finwaveOptions } from '../client/providers/finwave';
import { finwaveOnboarding } from '../workflows/finwave';
import type { VerificationState } from '../workflows/shared';

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

function start(reference: string) {
  const id = `finwave:${reference}`;
  const input = finwaveInput(id, reference, {}, finwaveOptions.parse({})); // the API's defaults
  return env.client.workflow.start(finwaveOnboarding, { workflowId: id, taskQueue: `${config.taskQueuePrefix}-finwave`, args: [input] });
}

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
  expect(state).toMatchObject({ status: 'expired', outcome: 'expired', reason: 'no final result from Finwave within 72 hours' });
  expect(elapsedH).toBeGreaterThanOrEqual(72);
  expect(elapsedH).toBeLessThan(72.01);
  const polls = state.timeline.filter((t) => t.event === 'result read by polling').length;
  expect(polls).toBe((72 * 60) / 15 - 1); // a read every 15 minutes; the last slot is the deadline itself
}, 300_000);

test('webhooks lost, user finishes after 47 hours: found by the next poll, within 15 minutes', async () => {
  const handle = await start(`late-${crypto.randomBytes(3).toString('hex')}`);
  await env.sleep('47 hours');
  const onboarding = [...sandbox.finwave.onboardings.values()].find((o) => `finwave:${o.customId}` === handle.workflowId)!;
  expect(onboarding).toBeDefined();
  sandbox.finwave.finish(onboarding, 'approved');
  const finishedAt = await env.currentTimeMs();
  const state: VerificationState = await handle.result();
  expect(state).toMatchObject({ status: 'completed', outcome: 'approved' });
  const found = Date.parse(state.timeline.find((t) => t.event === 'result read by polling' && t.providerStatus === 'FINISHED')?.at ?? state.updatedAt);
  expect(found - finishedAt).toBeLessThanOrEqual(15 * 60_000);
  expect(state.evidence.map((e) => e.kind)).toContain('finwave-evidence-zip');
}, 300_000);
