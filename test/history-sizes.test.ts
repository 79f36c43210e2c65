/**
 * The largest history each vendor's flow makes in these tests: the flow left alone until its
 * deadline, with the API's default options (the vendor's real durations), on the time-skipping
 * server. Prints events and bytes per run, and guards that no run nears Temporal's limits.
 * (Finwave: finwave-deadlines.test.ts; Fourthline: fourthline-deadlines.test.ts.)
 */
import crypto from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { workflowTaskQueue, type AppConfig } from '../config';
import { DIRECT_STARTS, startTimeSkippingService, type TimeSkippingService } from './helpers/time-skipping';
import { runSizes } from './helpers/history-size';
import type { VerificationState } from '../workflows/shared';

let service: TimeSkippingService;
let env: TestWorkflowEnvironment;
let config: AppConfig;

beforeAll(async () => {
  service = await startTimeSkippingService({ id360: { webhooks: { maxAttempts: 1, firstRetryMs: 10 } } });
  ({ env, config } = service);
});

afterAll(async () => {
  await service?.stop();
});

const starts = DIRECT_STARTS;

test.each(Object.keys(starts))(
  '%s: left alone until its default deadline, every run stays small',
  async (provider) => {
    const reference = `sizes-${crypto.randomBytes(4).toString('hex')}`;
    const id = `${provider}:${reference}`;
    const { type, input } = starts[provider]!(id, reference);
    const handle = await env.client.workflow.start(type, {
      workflowId: id,
      taskQueue: workflowTaskQueue(config),
      args: [input],
    });
    const state = (await handle.result()) as VerificationState;
    expect(state.status).toBe('expired');
    const sizes = await runSizes(env.client, id);
    console.log(`${provider} flow to its default deadline (${state.reason}), per run: ${JSON.stringify(sizes)}`);
    for (const s of sizes) expect(s.events).toBeLessThan(5_000);
  },
  300_000,
);
