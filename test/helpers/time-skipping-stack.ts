/**
 * The whole stack (API, worker, sandboxes, webhooks) on the Java time-skipping test server, for a
 * test file: registers the file's hooks and hands over the environment and the stack once started.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createTimeSkippingEnv, endOrphanedChildren, plainTimeSkippingClient } from './temporal';
import { startStack, type Stack } from './stack';

export function useTimeSkippingStack(
  ready: (env: TestWorkflowEnvironment, stack: Stack) => void,
  opts: { afterEach?: (stack: Stack) => void } = {},
): void {
  let env: TestWorkflowEnvironment | undefined;
  let stack: Stack | undefined;

  beforeAll(async () => {
    env = await createTimeSkippingEnv();
    // The API reads with a plain client: only `env.sleep` (and a test's own `env.client...result()`) moves time.
    stack = await startStack({
      address: env.address,
      connection: env.nativeConnection,
      client: plainTimeSkippingClient(env),
      noVisibility: true,
    });
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
