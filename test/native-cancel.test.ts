/**
 * A cancel from the Web UI or `temporal workflow cancel` (not our API's cancel Update) ends every
 * vendor's flow as `cancelled`, with its search attributes final, never a stale `awaiting_user`.
 * Finwave and Fourthline: finwave-deadlines.test.ts, fourthline-deadlines.test.ts.
 */
import crypto from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { workflowTaskQueue, type AppConfig } from '../config';
import { DIRECT_STARTS, startTimeSkippingService, type TimeSkippingService } from './helpers/time-skipping';
import { clearOfDueTimers, noActivityRunning } from './helpers/temporal';
import type { VerificationState } from '../workflows/shared';

let service: TimeSkippingService;
let env: TestWorkflowEnvironment;
let config: AppConfig;

beforeAll(async () => {
  service = await startTimeSkippingService();
  ({ env, config } = service);
});

afterAll(async () => {
  await service?.stop();
});

const starts = DIRECT_STARTS;

test.each(Object.keys(starts))(
  '%s: a native cancel ends the flow cancelled, search attributes included',
  async (provider) => {
    const reference = `native-${crypto.randomBytes(4).toString('hex')}`;
    const id = `${provider}:${reference}`;
    const { type, input } = starts[provider]!(id, reference);
    const handle = await env.client.workflow.start(type, {
      workflowId: id,
      taskQueue: workflowTaskQueue(config),
      args: [input],
    });
    // Wait until the flow waits for the user (the vendor session is open).
    for (let i = 0; i < 100; i++) {
      const s = await handle.query<VerificationState>('state');
      if (s.status === 'awaiting_user') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await env.sleep('1 hour');
    // Namirial's 5-minute polls fall on the sleep's end: see the helpers' test-server notes.
    await clearOfDueTimers(env, env.client, id);
    await noActivityRunning(env.client, id);
    await handle.cancel();
    const state = (await handle.result()) as VerificationState;
    expect(state).toMatchObject({
      status: 'cancelled',
      outcome: null,
      reason: 'cancelled from Temporal (Web UI or CLI)',
    });
    const d = await handle.describe();
    expect(d.status.name).toBe('COMPLETED');
    expect(d.searchAttributes.VerificationStatus).toEqual(['cancelled']);
  },
  120_000,
);
