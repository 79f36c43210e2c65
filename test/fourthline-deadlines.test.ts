/**
 * Fourthline's long waits, on the Java time-skipping test server with the whole stack (API, worker,
 * sandbox, webhooks): every phase ends by the case deadline and history stays bounded. (A case that
 * stays pending for months, continuing as new: test/fourthline-continue-as-new.test.ts.)
 */
import crypto from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Stack } from './helpers/stack';
import { useTimeSkippingStack } from './helpers/time-skipping-stack';
import { noActivityRunning } from './helpers/temporal';
import { fourthlineFlow } from './helpers/fourthline';
import { runSizes } from './helpers/history-size';

let env: TestWorkflowEnvironment;
let stack: Stack;

useTimeSkippingStack((e, s) => {
  env = e;
  stack = s;
});

const ref = (name: string) => `fld-${name}-${crypto.randomBytes(4).toString('hex')}`;

test('a client who stops after identity: expired at the 30-day case deadline, search attributes final, small histories', async () => {
  const f = fourthlineFlow(stack);
  const v = await f.create(ref('stops'));
  expect((await f.identity(v.id, 'completed')).status).toBe(200);
  const waiting = await f.waitPhase(v.id, 'awaiting_documents');
  const started = await env.currentTimeMs();
  await env.sleep('29 days');
  expect((await stack.api('GET', `/v1/verifications/${v.id}`)).body.status).toBe('awaiting_user');
  await env.sleep('1 day');
  const done = await stack.waitFor(v.id, (s) => s.status === 'expired');
  expect(done).toMatchObject({ outcome: 'expired', nextAction: { type: 'restart' } });
  expect(done.reason).toContain('the case deadline (30 days) passed');
  const endedAt = Date.parse(done.updatedAt);
  expect(endedAt - started).toBeLessThan(30 * 24 * 3_600_000 + 60_000);
  const sig = (await stack.api('GET', `/v1/verifications/${v.id}/signature`)).body;
  expect(sig.attempts[0]).toMatchObject({ outcome: 'expired' });
  const d = await env.client.workflow.getHandle(v.id).describe();
  expect(d.status.name).toBe('COMPLETED');
  expect(d.searchAttributes.VerificationStatus).toEqual(['expired']);
  expect(d.searchAttributes.VerificationOutcome).toEqual(['expired']);
  const sizes = [...(await runSizes(env.client, v.id)), ...(await runSizes(env.client, waiting.workflowId))];
  console.log(`fourthline 30-day abandoned case, per run: ${JSON.stringify(sizes)}`);
  for (const s of sizes) expect(s.events).toBeLessThan(5_000);
}, 300_000);

test('a client who never sends the identity: the 7-day identity window ends the case expired/expired, like every closed window', async () => {
  const f = fourthlineFlow(stack);
  const v = await f.create(ref('no-identity'));
  expect(v.nextAction).toMatchObject({ type: 'action', action: 'identity' });
  const started = await env.currentTimeMs();
  await env.sleep('7 days');
  const done = await stack.waitFor(v.id, (s) => s.status === 'expired');
  expect(done).toMatchObject({
    status: 'expired',
    outcome: 'expired',
    reason: 'no identity data and files within 7 days',
    nextAction: { type: 'restart' },
  });
  expect(Date.parse(done.updatedAt) - started).toBeLessThan(7 * 24 * 3_600_000 + 60_000);
  const d = await env.client.workflow.getHandle(v.id).describe();
  expect(d.searchAttributes.VerificationStatus).toEqual(['expired']);
  expect(d.searchAttributes.VerificationOutcome).toEqual(['expired']);
}, 300_000);

describe('native cancel (Web UI / temporal CLI; terminate: fourthline.test.ts, as this server does not tell a parent)', () => {
  test('cancelling the case ends it cancelled, search attributes and the attempt included', async () => {
    const f = fourthlineFlow(stack);
    const v = await f.create(ref('native-cancel'));
    await f.identity(v.id, 'completed');
    const a = await f.waitPhase(v.id, 'awaiting_documents');
    await noActivityRunning(stack.client, a.workflowId);
    await env.client.workflow.getHandle(v.id).cancel();
    const done = await stack.waitFor(v.id, (s) => s.status === 'cancelled');
    expect(done.reason).toContain('cancelled from Temporal');
    const d = await env.client.workflow.getHandle(v.id).describe();
    expect(d.status.name).toBe('COMPLETED');
    expect(d.searchAttributes.VerificationStatus).toEqual(['cancelled']);
    // The attempt, cancelled with the case, ended before it: the case shows how, and no child outlives it
    // (before, the attempt ended after the case had closed).
    const c = await stack.client.workflow.getHandle(a.workflowId).describe();
    expect(c.status.name).toBe('COMPLETED');
    expect(c.closeTime!.getTime()).toBeLessThanOrEqual(d.closeTime!.getTime());
    expect(await stack.client.workflow.getHandle(a.workflowId).result()).toMatchObject({ outcome: 'cancelled' });
    const sig = (await stack.api('GET', `/v1/verifications/${v.id}/signature`)).body;
    expect(sig.attempts[0]).toMatchObject({ outcome: 'cancelled', phase: 'ended' });
    expect(done.timeline.map((t: { event: string }) => t.event)).toContain('signature attempt 1 ended');
  }, 120_000);
});

describe('history stays bounded whatever the caller asks', () => {
  test.each([
    ['fourthline', {}],
    ['finwave', {}],
    ['id360', {}],
    ['namirial', { applicant: { firstName: 'Giulia', lastName: 'Rossi', email: 'giulia@example.it' } }],
  ])(
    '%s: a poll interval under 1 minute answers 400 naming the field; 1 minute is accepted',
    async (provider, extra) => {
      const res = await stack.api('POST', '/v1/verifications', {
        provider,
        reference: ref(`poll-${provider}`),
        ...extra,
        options: { pollInterval: '59s' },
      });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
      expect(res.body.error.message).toContain(
        'body.options.pollInterval: the poll interval must be at least 1 minute',
      );
      const ok = await stack.api('POST', '/v1/verifications', {
        provider,
        reference: ref(`poll-${provider}`),
        ...extra,
        options: { pollInterval: '1 minute' },
      });
      expect([200, 201]).toContain(ok.status);
    },
  );

  test('a Fourthline case deadline beyond 90 days answers 400 naming the field', async () => {
    const res = await stack.api('POST', '/v1/verifications', {
      provider: 'fourthline',
      reference: ref('deadline'),
      options: { caseDeadline: '91 days' },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('body.options.caseDeadline');
  });
});
