/**
 * The whole stack (API, worker, sandboxes, webhooks) on the Java time-skipping test server, for a
 * test file: registers the file's hooks and hands over the environment and the stack once started.
 */
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createTimeSkippingEnv, endOrphanedChildren, plainTimeSkippingClient } from './temporal';
import { startStack, type Stack } from './stack';

export function useTimeSkippingStack(ready: (env: TestWorkflowEnvironment, stack: Stack) => void, opts: { afterEach?: (stack: Stack) => void } = {}): void {
  let env: TestWorkflowEnvironment | undefined;
  let stack: Stack | undefined;

  beforeAll(async () => {
    env = await createTimeSkippingEnv();
    // The API reads with a plain client: only `env.sleep` (and a test's own `env.client...result()`) moves time.
    stack = await startStack({ address: env.address, connection: env.nativeConnection, client: plainTimeSkippingClient(env), noVisibility: true });
    ready(env, stack);
  });

  // The Java test server sometimes stops skipping time for a while (issue 9 closing note): a file that
  // takes 20 s took 484 s once in a full run, every assertion passing. A stall is the test server's, not
  // the product's, so the tests get room for it rather than failing on wall time.
  jest.setTimeout(300_000);

  // A case that ended leaves its notifications outbox child lingering for a day: see endOrphanedChildren.
  afterEach(async () => {
    if (stack) opts.afterEach?.(stack);
    if (env) await endOrphanedChildren(env);
  });

  afterAll(async () => {
    await stack?.stop();
    await env?.teardown();
  });
}

/**
 * Waits until the workflow has no activity scheduled or running; call it before a cancel from Temporal.
 * This test server fails, over and over, the workflow task that cancels an activity it has just
 * scheduled ("ACTIVITY_UNKNOWN for scheduledEventId=36"): the workflow then never ends. (The sandbox's
 * webhook as a Fourthline attempt reaches awaiting_documents makes it read the status at about the time
 * a test cancels; CI met it once, a test hanging its whole 120 s.) The real server takes that cancel.
 */
export async function noActivityRunning(client: Client, workflowId: string): Promise<void> {
  const until = Date.now() + 20_000;
  for (let quiet = 0; quiet < 3; ) {
    if (Date.now() > until) throw new Error(`${workflowId} still runs an activity after 20 s`);
    const d = await client.workflow.getHandle(workflowId).describe();
    quiet = d.raw.pendingActivities?.length ? 0 : quiet + 1;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Call after `env.sleep`, before an outside event reaches the workflow (a webhook, an action): when one
 * of its timers is due within `marginMs` of the test server's time, sleeps past it first, so that the
 * timer fires (and the read it starts ends) before the event comes.
 *
 * This test server rejects the workflow task that cancels a timer whose time came while the task ran
 * ("invalid history builder state for action"), and then never times that task out: the workflow stops,
 * and time skipping with it for every test after. A sleep of whole hours ends next to a poll timer of
 * whole hours, so a webhook right after it met exactly that (CI, fourthline-continue-as-new: both tests
 * hit their timeouts). The real server takes that cancel.
 */
export async function clearOfDueTimers(env: TestWorkflowEnvironment, client: Client, workflowId: string, marginMs = 60_000): Promise<void> {
  for (let round = 0; round < 5; round++) {
    const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
    const ended = new Set(events.flatMap((e) => [e.timerFiredEventAttributes?.startedEventId, e.timerCanceledEventAttributes?.startedEventId]).filter((x) => x != null).map(String));
    const now = await env.currentTimeMs();
    const due = events
      .filter((e) => e.timerStartedEventAttributes && !ended.has(String(e.eventId)))
      .map((e) => tsMs(e.eventTime) + tsMs(e.timerStartedEventAttributes!.startToFireTimeout))
      .filter((at) => at - now < marginMs);
    if (!due.length) return;
    await env.sleep(Math.max(...due) - now + 1_000);
    await noActivityRunning(client, workflowId);
  }
  throw new Error(`${workflowId}: a timer is still due within ${marginMs} ms after 5 rounds`);
}

function tsMs(t: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  return Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);
}
