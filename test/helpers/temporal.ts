/**
 * Temporal plumbing for jest tests.
 *
 * - connectToTestTemporal(): the in-memory dev server started once per jest run by test/global-setup.ts
 *   (full server: visibility queries, custom search attributes, real time).
 * - createTimeSkippingEnv(): a fresh Java time-skipping test server per call (fake time; no visibility queries),
 *   with this project's custom search attributes registered.
 * - endOrphanedChildren(), noActivityRunning(), clearOfDueTimers(): around that server's bugs (each one says which).
 */
import { Client, WorkflowNotFoundError } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { tsToMs } from '@temporalio/common/lib/time';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, NativeConnection, Runtime, type LogLevel } from '@temporalio/worker';
import { ensureTimeSkippingTestServer } from '../../temporal-dev/ensure';
import { SEARCH_ATTRIBUTES, type SearchAttributeCliType } from '../../temporal-dev/search-attributes';
import { dataConverter, developmentKeyring } from '../../codec';

/** Set by test/global-setup.ts (or by you, to run the tests against an already running server). */
export const TEST_ADDRESS_ENV = 'TEMPORAL_TEST_ADDRESS';
/** Set by test/global-setup.ts: the wrapper written by temporal-dev/ensure-test-server.sh. */
export const TEST_SERVER_PATH_ENV = 'TEMPORAL_TEST_SERVER_PATH';
/** Where test/global-setup.ts wrote the workflow bundle it built once for the whole run (test/helpers/stack.ts workflowBundle). */
export const SHARED_BUNDLE_ENV = 'TEST_WORKFLOW_BUNDLE_FILE';
export const TEST_NAMESPACE = 'default';

export interface TestTemporal {
  address: string;
  /** For Worker.create({ connection }); the client below uses it too. */
  connection: NativeConnection;
  client: Client;
  close(): Promise<void>;
}

/**
 * Installs the SDK Runtime with a quieter logger (default WARN; TEMPORAL_TEST_LOG_LEVEL=INFO|DEBUG|TRACE for more)
 * unless something already created it. Called by the helpers below; call it yourself first in a test file that
 * creates Workers or connections before using them.
 */
export function installTestRuntime(): void {
  const level = (process.env.TEMPORAL_TEST_LOG_LEVEL ?? 'WARN').toUpperCase() as LogLevel;
  try {
    Runtime.install({ logger: new DefaultLogger(level) });
  } catch {
    // Already installed or instantiated in this module registry: keep it.
  }
}

/**
 * The data converter of every test client and worker: the service's own (encrypted payloads, encoded
 * failures) with the checkout's development key, the key createWorkers and buildApi use when a test
 * config sets no PAYLOAD_KEYS. A test that builds its own Worker passes it too.
 */
export function testDataConverter() {
  return dataConverter(developmentKeyring().keyring);
}

/** Connects to the jest run's shared dev server (namespace "default"). Call close() in afterAll. */
export async function connectToTestTemporal(): Promise<TestTemporal> {
  const address = process.env[TEST_ADDRESS_ENV];
  if (!address) {
    throw new Error(
      `${TEST_ADDRESS_ENV} is not set: run the tests through jest (jest.config.js globalSetup starts the server), ` +
        `or point ${TEST_ADDRESS_ENV} at a running Temporal server.`,
    );
  }
  installTestRuntime();
  const connection = await NativeConnection.connect({ address });
  const client = new Client({ connection, namespace: TEST_NAMESPACE, dataConverter: testDataConverter() });
  return {
    address,
    connection,
    client,
    // A call the client's gRPC retry is still backing off (a busy server answered RESOURCE_EXHAUSTED or
    // UNAVAILABLE near the end of a file) fires after close and throws "Channel has been shut down" from a
    // timer, failing the whole file: give those retries a moment to finish first.
    close: async () => {
      await new Promise((r) => setTimeout(r, 3_000));
      await connection.close();
    },
  };
}

/** 'KeywordList' -> 'KEYWORD_LIST' -> IndexedValueType enum value. */
function indexedValueType(type: SearchAttributeCliType) {
  const sdkName = type.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase() as Parameters<
    typeof encodeSearchAttributeIndexedValueType
  >[0];
  const encoded = encodeSearchAttributeIndexedValueType(sdkName);
  if (encoded === undefined) throw new Error(`Unknown search attribute type ${type}`);
  return encoded;
}

/**
 * Registers this project's custom search attributes on a time-skipping test server.
 *
 * The Java test server only knows its built-in Custom*Field attributes; any other name, whether upserted by a
 * workflow or given at start (typedSearchAttributes), is rejected with "search attribute ... is not defined"
 * until registered through OperatorService.AddSearchAttributes, which it implements (in memory, any namespace).
 */
export async function registerSearchAttributes(env: TestWorkflowEnvironment): Promise<void> {
  const searchAttributes = Object.fromEntries(SEARCH_ATTRIBUTES.map((sa) => [sa.name, indexedValueType(sa.type)]));
  try {
    await env.connection.operatorService.addSearchAttributes({
      namespace: env.namespace ?? TEST_NAMESPACE,
      searchAttributes,
    });
  } catch (err) {
    // Registering twice on the same server is harmless.
    const code = (err as { code?: number })?.code;
    if (code !== 6 /* ALREADY_EXISTS */ && !/already exists/i.test(String((err as Error)?.message))) throw err;
  }
}

export interface TimeSkippingEnvOptions {
  /** Register SEARCH_ATTRIBUTES (default true). */
  searchAttributes?: boolean;
}

/**
 * Starts a Java time-skipping test server (installed by temporal-dev/ensure-test-server.sh) and returns the
 * environment with this project's search attributes registered. Call env.teardown() in afterAll.
 */
export async function createTimeSkippingEnv(opts: TimeSkippingEnvOptions = {}): Promise<TestWorkflowEnvironment> {
  installTestRuntime();
  const path = process.env[TEST_SERVER_PATH_ENV] || (await ensureTimeSkippingTestServer());
  let env: TestWorkflowEnvironment | undefined;
  // sdk-core gives the server a fixed ~5 s to answer; the JVM normally needs < 1 s (CDS archive), but retry once in
  // case an overloaded machine made it miss that window.
  for (let attempt = 1; !env; attempt++) {
    try {
      env = await TestWorkflowEnvironment.createTimeSkipping({
        server: { executable: { type: 'existing-path', path } },
        client: { dataConverter: testDataConverter() },
      });
    } catch (err) {
      if (attempt >= 2 || !/did not start within/i.test(String((err as Error)?.message))) throw err;
    }
  }
  if (opts.searchAttributes !== false) {
    try {
      await registerSearchAttributes(env);
    } catch (err) {
      await env.teardown();
      throw err;
    }
  }
  return env;
}

/**
 * A plain client on a time-skipping server, for the API under test (`startStack({ client })`).
 *
 * `env.client` is the SDK's TimeSkippingClient: its `handle.result()` unlocks time skipping for as
 * long as the call waits and locks it again after. The API reads a closed verification with
 * `result()` (client/read-model.ts), and the sandboxes' webhooks make the API read while the test
 * polls, so with `env.client` every such read let time run free (a read moved the server a day
 * ahead), and interleaved unlock/lock calls from concurrent reads left the server's lock counter
 * above its resting value: the next `env.sleep` then waited for ever (the Fourthline window tests
 * hung at jest's limit). The TypeScript client has no guard for this (Java's test client wraps the
 * same calls in an idempotent locker). With this client only `env.sleep` (and a test's own
 * `env.client...result()`) moves time.
 */
export function plainTimeSkippingClient(env: TestWorkflowEnvironment): Client {
  return new Client({
    connection: env.connection,
    namespace: env.namespace ?? TEST_NAMESPACE,
    dataConverter: testDataConverter(),
  });
}

/**
 * Terminates every open child whose parent has closed (an ABANDON child outliving its parent: the
 * notifications outbox lingers a day after its verification ends, workflows/notify.ts).
 *
 * The Java time-skipping server stops skipping time when such a child completes after its parent
 * closed: the next `env.sleep` then moves with the wall clock, so a test that sleeps past "a case
 * ended + 1 day" (the Fourthline 24 h windows, after earlier tests' cases ended) hangs. Observed on
 * temporal-test-server 1.38.0: the stall starts exactly when that child completes, and does not
 * happen once these children are gone. The real server has no such problem; call this in `afterEach`
 * of a time-skipping file whose flows leave such children behind.
 */
export async function endOrphanedChildren(env: TestWorkflowEnvironment): Promise<number> {
  const svc = env.client.workflowService;
  const namespace = env.namespace ?? TEST_NAMESPACE;
  const open = await svc.listOpenWorkflowExecutions({ namespace, maximumPageSize: 1000 });
  let ended = 0;
  for (const e of open.executions ?? []) {
    const d = await svc.describeWorkflowExecution({ namespace, execution: e.execution! });
    const parent = d.workflowExecutionInfo?.parentExecution;
    if (!parent?.workflowId) continue;
    const p = await svc.describeWorkflowExecution({ namespace, execution: parent });
    if (p.workflowExecutionInfo?.closeTime == null) continue;
    try {
      await env.client.workflow
        .getHandle(e.execution!.workflowId!, e.execution!.runId ?? undefined)
        .terminate('test: its parent has closed (time-skipping server)');
      ended++;
    } catch (err) {
      // It completed between the listing and now: nothing left to end.
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  }
  return ended;
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
  for (let quiet = 0; quiet < 3;) {
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
export async function clearOfDueTimers(
  env: TestWorkflowEnvironment,
  client: Client,
  workflowId: string,
  marginMs = 60_000,
): Promise<void> {
  for (let round = 0; round < 5; round++) {
    const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
    const ended = new Set(
      events
        .flatMap((e) => [e.timerFiredEventAttributes?.startedEventId, e.timerCanceledEventAttributes?.startedEventId])
        .filter((x) => x != null)
        .map(String),
    );
    const now = await env.currentTimeMs();
    const due = events
      .filter((e) => e.timerStartedEventAttributes && !ended.has(String(e.eventId)))
      .map((e) => tsToMs(e.eventTime) + tsToMs(e.timerStartedEventAttributes!.startToFireTimeout))
      .filter((at) => at - now < marginMs);
    if (!due.length) return;
    await env.sleep(Math.max(...due) - now + 1_000);
    await noActivityRunning(client, workflowId);
  }
  throw new Error(`${workflowId}: a timer is still due within ${marginMs} ms after 5 rounds`);
}
