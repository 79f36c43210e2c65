/**
 * Found by the chaos suite (full run, `...-211-signed`): a Fourthline case stopped for good on an SDK
 * Update-ordering nondeterminism. Identity Update A was running its upload activity when the worker died;
 * the next workflow task, on a fresh worker, carried both the failure of A's activity and a new identity
 * Update B (the integrator's retry). The worker recorded "A completed, B accepted"; every replay after
 * that ran "B accepted" first and failed ("UpdateMachine in state AcceptCommandCreated … Completed"), so
 * the case never moved again (the class of temporalio/sdk-python#673, sdk-rust#943).
 *
 * Here the same workflow task is made on purpose, on the real dev server: a worker process runs A's
 * upload (its first read held 8 s) and is SIGKILLed; an activity-only worker retries the upload, which
 * Fourthline refuses (422); the task for that failure waits on the dead worker's sticky queue, B is
 * admitted meanwhile, and a fresh workflow-only worker takes the one task holding both. B must be refused
 * (nothing of it in history), the history must replay, and the identity sent again through the API goes
 * through. On this server and SDK the fresh worker runs B before A's failure (refused: A is still busy),
 * not after it as in the chaos run (there B was accepted; now identitySettledAt refuses it "try again",
 * fourthline-case.ts): this test covers the situation and the first order; the second order did not
 * come on demand here (worker cache, timing), so that half rests on the chaos run's history.
 */
import type { ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import { WorkflowUpdateFailedError, WorkflowUpdateStage } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { dataConverter, resolvePayloadKeyring } from '../codec';
import { taskQueueFor, workflowTaskQueue } from '../config';
import { FOURTHLINE_REFUSALS, identityUpdate } from '../workflows/fourthline';
import { connectToTestTemporal, type TestTemporal } from './helpers/temporal';
import { control, startStack, bundleOptions, workflowBundleFile, type Stack } from './helpers/stack';
import { fourthlineFlow } from './helpers/fourthline';
import { startWorkerProcess } from './helpers/worker-process';

jest.setTimeout(180_000);

const EventType = temporal.api.enums.v1.EventType;
let temporal_: TestTemporal;
let stack: Stack;
const running: { worker: Worker; done: Promise<void> }[] = [];
let child: ChildProcess | undefined;

beforeAll(async () => {
  temporal_ = await connectToTestTemporal();
  stack = await startStack(temporal_);
  // The stack's own workers (workflows and activities together) make way for the split ones below.
  await stack.stopWorkers();
});

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const r of running) if (r.worker.getState() === 'RUNNING') r.worker.shutdown();
  await Promise.all(running.map((r) => r.done.catch(() => undefined)));
  await stack?.stop();
  await temporal_?.close();
});

async function startWorker(role: 'workflows' | 'activities'): Promise<{ worker: Worker; done: Promise<void> }> {
  const worker = await Worker.create({
    connection: temporal_.connection,
    namespace: stack.config.temporal.namespace,
    // The shared workflow queue, or Fourthline's activity queue (config/task-queues.ts).
    taskQueue: role === 'workflows' ? workflowTaskQueue(stack.config) : taskQueueFor(stack.config, 'fourthline'),
    dataConverter: dataConverter(resolvePayloadKeyring(stack.config).keyring),
    ...(role === 'workflows'
      ? await bundleOptions()
      : { activities: createActivities({ config: stack.config, store: stack.store }) }),
  });
  const r = { worker, done: worker.run() };
  running.push(r);
  return r;
}

/** A worker process (workflows and activities, the production createWorkers) with this stack's config, to SIGKILL. */
async function startWorkerChild(): Promise<ChildProcess> {
  const started = startWorkerProcess(stack, temporal_.address, await workflowBundleFile());
  child = started.child;
  return started;
}

const fault = (body: Record<string, unknown>) => control(stack, '/fourthline/_sandbox/faults', body);

test('a retried identity Update meeting the first one’s failure in one workflow task after a kill: refused, replayable, then accepted', async () => {
  const first_ = await startWorkerChild();
  const f = fourthlineFlow(stack);
  const v = await f.create(`fl-idorder-${crypto.randomBytes(4).toString('hex')}`);
  const handle = stack.client.workflow.getHandle(v.id);
  const events = async () => (await handle.fetchHistory()).events ?? [];
  const waitEvent = async (type: temporal.api.enums.v1.EventType, count = 1) => {
    for (const until = Date.now() + 60_000; Date.now() < until; await new Promise((r) => setTimeout(r, 100))) {
      if ((await events()).filter((e) => e.eventType === type).length >= count) return;
    }
    throw new Error(`no event ${EventType[type]} x${count} in ${v.id}`);
  };
  const case_ = v.providerReference!;

  // A: its upload's first read answers after 8 s, then Fourthline refuses the identity data (422).
  expect(
    (await fault({ mode: 'slow', delayMs: 8_000, path: `/v1/verifications/${case_}`, method: 'GET', times: 1 })).status,
  ).toBe(201);
  expect(
    (
      await fault({
        mode: '4xx',
        status: 422,
        code: 'INVALID_IDENTITY',
        path: `/v1/verifications/${case_}/identity-data`,
        method: 'PUT',
        times: 1,
      })
    ).status,
  ).toBe(201);
  // (Updates sent with the client, not the API: the API's audit signal would schedule a workflow task of its own.)
  const identity = async () => ({
    identityRef: await stack.store.put(
      'fourthline-identity-data',
      'application/json',
      Buffer.from(
        JSON.stringify({
          person: { firstName: 'Marie', lastName: 'Dupont' },
          address: { city: 'Paris', countryCode: 'FRA' },
          emailAndPhone: { email: 'm@example.com' },
          nonce: crypto.randomUUID(),
        }),
      ),
      v.id,
    ),
    files: [
      await stack.store.put(
        'fourthline-identity-id_document_front',
        'image/jpeg',
        Buffer.from('ffd8ffe000104a46494600010100000100010000ffd9', 'hex'),
        v.id,
      ),
    ],
  });
  const first = handle.executeUpdate(identityUpdate, { args: [await identity()] }).catch((err: unknown) => err);
  const updatesAccepted = async () =>
    (await events()).filter(
      (e) =>
        e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED &&
        e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === identityUpdate.name,
    ).length;
  for (const until = Date.now() + 30_000; (await updatesAccepted()) < 1 && Date.now() < until;)
    await new Promise((r) => setTimeout(r, 50));
  expect(await updatesAccepted()).toBe(1);

  // The worker dies in A's upload (its first read held 8 s), once it has taken the workflow tasks that follow
  // A's acceptance (a signal): nothing waits for it but A's activity. The retry, on an activity-only worker,
  // is refused (422).
  await new Promise((r) => setTimeout(r, 2_000));
  first_.kill('SIGKILL');

  await startWorker('activities');
  await waitEvent(EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED);

  // B (the integrator's retry) after A's activity failed, while no workflow worker runs: the next workflow task
  // carries the failure, then B. startUpdate answers once a workflow worker accepted or refused B; a refusal
  // is then its result's error.
  const b = handle
    .startUpdate(identityUpdate, { args: [await identity()], waitForStage: WorkflowUpdateStage.ACCEPTED })
    .then((h) => h.result())
    .catch((err: unknown) => err);
  await new Promise((r) => setTimeout(r, 1_000));
  const failedAt = (await events()).find((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED)!.eventId!;
  for (const until = Date.now() + 15_000; Date.now() < until; await new Promise((r) => setTimeout(r, 200))) {
    if (
      (await events()).some(
        (e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT && e.eventId! > failedAt,
      )
    )
      break;
  }
  await startWorker('workflows');
  const bOutcome = await b;
  expect(await first).toBeInstanceOf(WorkflowUpdateFailedError); // A: Fourthline refused the identity data
  const completed = (await events()).filter(
    (e) =>
      e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED &&
      e.workflowExecutionUpdateCompletedEventAttributes?.outcome?.failure,
  );
  expect(completed).toHaveLength(1); // A: failed (the refused identity data)

  // B was refused in the task that held both, and nothing of B is in history. Which refusal depends on the
  // order the worker runs the two in: B first meets A still busy; A's end first meets identitySettledAt
  // (the order of the chaos run, which this server and SDK did not reproduce on demand here: see docs/crash-safety.md).
  expect(bOutcome).toBeInstanceOf(WorkflowUpdateFailedError);
  const cause = (bOutcome as WorkflowUpdateFailedError).cause;
  expect(cause instanceof ApplicationFailure && `${cause.type}: ${cause.message}`).toMatch(
    new RegExp(
      `^(${FOURTHLINE_REFUSALS.wrongState}: an identity upload is already in progress|${FOURTHLINE_REFUSALS.tryAgain}: the previous identity upload has just ended: send the identity again)$`,
    ),
  );
  expect(await updatesAccepted()).toBe(1);

  // The history replays on a worker that never saw it (before the fix: DeterminismViolationError).
  const history = await handle.fetchHistory();
  await Worker.runReplayHistory(
    {
      ...(await bundleOptions()),
      dataConverter: dataConverter(resolvePayloadKeyring(stack.config).keyring),
    },
    history,
    v.id,
  );

  // The integrator sends the identity again: uploaded, and the verification shows the case processing.
  const again = await f.identity(v.id);
  expect(again.status).toBe(200);
  expect(again.body).toMatchObject({ caseStatus: 'pending' });
  const s = await stack.waitFor(v.id, (x) => x.status === 'processing' || x.providerStatus === 'completed');
  expect(s.nextAction).not.toMatchObject({ action: 'identity' });
});
