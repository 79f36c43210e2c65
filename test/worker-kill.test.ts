/**
 * Issue 10: a worker killed with SIGKILL in the middle of a vendor call. The activity heartbeats
 * while it waits (activities/http.ts) and its heartbeatTimeout is 15 s, so the server gives the
 * attempt up about 15 s after the worker died and a restarted worker carries the flow on, instead of
 * waiting out the 2-minute start-to-close. Real dev server; the worker is a child process.
 */
import type { ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import { connectToTestTemporal, type TestTemporal } from './helpers/temporal';
import { control, startStack, workflowBundleFile, type Stack } from './helpers/stack';
import { startWorkerProcess } from './helpers/worker-process';

let temporal: TestTemporal;
let stack: Stack;
let bundlePath: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  temporal = await connectToTestTemporal();
  stack = await startStack(temporal);
  await stack.stopWorkers(); // only the child processes below run this stack's task queues
  bundlePath = await workflowBundleFile();
});

const killChildren = () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
};
// Each test starts with no worker of a previous test polling.
beforeEach(killChildren);

afterAll(async () => {
  killChildren();
  await stack?.stop();
  await temporal?.close();
});

/** A worker process with this stack's config; resolves once it polls. */
function startWorkerChild(extraEnv: Record<string, string> = {}): Promise<ChildProcess> {
  const started = startWorkerProcess(stack, temporal.address, bundlePath, extraEnv);
  children.push(started.child);
  return started;
}

test('kill -9 during a vendor call: a restarted worker retries it within ~30 s and the flow finishes', async () => {
  const first = await startWorkerChild();
  // The create call at Finwave answers 20 s late: the worker is killed while it waits.
  expect(
    (
      await control(stack, '/finwave/_sandbox/faults', {
        mode: 'slow',
        delayMs: 20_000,
        path: '/integrations',
        method: 'POST',
        times: 1,
      })
    ).status,
  ).toBe(201);
  const reference = `kill-${crypto.randomBytes(4).toString('hex')}`;
  const id = `finwave:${reference}`;
  const created = stack.api('POST', '/v1/verifications', { provider: 'finwave', reference }).catch(() => null);
  const until = Date.now() + 30_000;
  while (!stack.sandbox.finwave.faults.injected.some((f) => f.mode === 'slow') && Date.now() < until)
    await new Promise((r) => setTimeout(r, 100));
  expect(stack.sandbox.finwave.faults.injected.some((f) => f.mode === 'slow')).toBe(true);

  first.kill('SIGKILL');
  const killedAt = Date.now();
  await startWorkerChild();
  const moving = await stack.waitFor(
    id,
    (s) => s.status === 'awaiting_user' && s.nextAction.type === 'redirect',
    60_000,
  );
  const restartToMovingMs = Date.now() - killedAt;
  console.log(
    `worker kill -> flow moving again: ${(restartToMovingMs / 1000).toFixed(1)} s (start-to-close is 2 min; heartbeat timeout 15 s)`,
  );
  expect(restartToMovingMs).toBeLessThan(45_000);
  await created;

  // The user finishes: the new worker carries the flow to its end. One onboarding at Finwave.
  expect(
    (await control(stack, `/finwave/_sandbox/onboardings/${moving.providerReference}/finish`, { scenario: 'approved' }))
      .status,
  ).toBe(200);
  expect((await stack.waitFor(id, (s) => s.status === 'completed', 30_000)).outcome).toBe('approved');
  expect(stack.sandbox.finwave.ledger.count('onboarding-created')).toBe(1);
}, 150_000);

test('Authenteq: the worker dies right after the raw result is stored; the retry reads it from the store, not "lost-after-success"', async () => {
  // This worker SIGKILLs itself just after storing the raw result of the code exchange.
  const dying = await startWorkerChild({ CHILD_DIE_AFTER_PUT: 'authenteq-result-json' });
  const died = new Promise<void>((resolve) => dying.once('exit', () => resolve()));
  const reference = `kill-aq-${crypto.randomBytes(4).toString('hex')}`;
  const created = await stack.api('POST', '/v1/verifications', { provider: 'authenteq', reference });
  expect(created.status).toBe(201);
  const token = new URL(created.body.nextAction.url).searchParams.get('token')!;
  const pass = await control(stack, `/authenteq/_sandbox/sessions/${token}/pass`, {});
  expect(pass.status).toBe(200);
  await fetch(pass.body.redirectTo, { redirect: 'manual' }); // the browser back on our receiver
  await died;
  const diedAt = Date.now();
  await startWorkerChild();
  const done = await stack.waitFor(created.body.id, (s) => s.status === 'completed' || s.status === 'failed', 60_000);
  console.log(
    `Authenteq: worker died after storing the result -> completed: ${((Date.now() - diedAt) / 1000).toFixed(1)} s`,
  );
  expect(done).toMatchObject({ status: 'completed', outcome: 'approved' });
  expect(done.facts.attention ?? null).toBeNull();
  // The code was spent once: one exchange at Authenteq.
  expect(stack.sandbox.authenteq.ledger.count('code-exchanged', { subject: token })).toBe(1);
  expect(stack.sandbox.authenteq.exchanges.filter((e) => e.token === token).map((e) => e.status)).toEqual([200]);
}, 150_000);

test('kill -9 while a Namirial create waits for its answer: the retry makes a second enrollment, and the verification records and flags it', async () => {
  const first = await startWorkerChild();
  // Namirial applies the create at once and answers 20 s later: the worker is killed while it waits.
  expect(
    (
      await control(stack, '/namirial/_sandbox/faults', {
        mode: 'answerLate',
        delayMs: 20_000,
        path: '/api/v1/Enrollments',
        method: 'PUT',
        times: 1,
      })
    ).status,
  ).toBe(201);
  const reference = `kill-nm-${crypto.randomBytes(4).toString('hex')}`;
  const id = `namirial:${reference}`;
  const created = stack
    .api('POST', '/v1/verifications', {
      provider: 'namirial',
      reference,
      applicant: { firstName: 'Giulia', lastName: 'Rossi', email: 'giulia@example.it' },
    })
    .catch(() => null);
  const applied = () =>
    stack.sandbox.namirial.ledger.entries.filter(
      (e) => e.kind === 'enrollment-created' && e.key?.includes('/return/namirial/'),
    );
  const before = applied().length;
  const until = Date.now() + 30_000;
  while (applied().length === before && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  expect(applied().length).toBe(before + 1);

  first.kill('SIGKILL');
  await startWorkerChild();
  const s = await stack.waitFor(id, (x) => x.providerReference !== null, 60_000);
  await created;
  const mine = applied().slice(before);
  expect(mine).toHaveLength(2); // no key, no look-up at Namirial: the second one cannot be avoided...
  expect(mine.map((e) => e.subject)).toContain(s.providerReference);
  expect(s.facts).toMatchObject({ attention: 'vendor-duplicate-possible', vendorDuplicatesPossible: 1 }); // ...so it is recorded and flagged
  expect(s.status).toBe('awaiting_user');
}, 150_000);
