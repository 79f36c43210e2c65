/**
 * Fourthline's windows with the real durations, on the Java time-skipping test server: the whole
 * stack (API, worker, sandbox, webhooks) runs as usual, and `env.sleep` moves workflow time. The
 * workflow's own timers close the windows, and its validators refuse a late step before any vendor
 * call. (The sandbox keeps real time, so the vendor never refuses first here.)
 */
import crypto from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import type { Stack } from './helpers/stack';
import { useTimeSkippingStack } from './helpers/time-skipping-stack';
import { fourthlineFlow } from './helpers/fourthline';

let env: TestWorkflowEnvironment;
let stack: Stack;

useTimeSkippingStack((e, s) => {
  env = e;
  stack = s;
});

const ref = (name: string) => `flw-${name}-${crypto.randomBytes(4).toString('hex')}`;

async function vendorSignature(
  signatureId: string,
): Promise<{ approvals: number; confirmations: number; calls: { op: string }[] }> {
  return (await (await fetch(`${stack.sandboxUrl}/fourthline/_sandbox/signatures/${signatureId}`)).json()) as never;
}

async function toApproval(name: string, options: Record<string, unknown> = {}, scenario = 'completed') {
  const f = fourthlineFlow(stack);
  const v = await f.create(ref(name), options);
  await f.identity(v.id, scenario);
  const a = await f.signUpToApproval(v.id, scenario === 'selfie-required' ? 'awaiting_selfie' : 'awaiting_approval');
  return { f, v, a };
}

describe('approval window (2 h after user_consent_required)', () => {
  test('approve at 1h59 succeeds', async () => {
    const { f, v } = await toApproval('approve-in-time', { maxSignatureAttempts: 1 });
    await f.action(v.id, 'signature-details');
    await env.sleep('119m');
    const res = await f.action(v.id, 'approve', {});
    expect(res.status).toBe(200);
    expect(res.body.attempt.phase).toBe('awaiting_confirmation');
  });

  test("the Web UI's timer summary says what the attempt waits for and when the window closes", async () => {
    const { a } = await toApproval('summary', { maxSignatureAttempts: 1 });
    const { events } = await env.client.workflow.getHandle(a.workflowId).fetchHistory();
    // Encrypted by our payload codec like every payload (the Web UI decodes it through the codec server).
    const summaries: string[] = [];
    for (const e of events ?? []) {
      if (e.timerStartedEventAttributes && e.userMetadata?.summary)
        summaries.push(
          await decodeFromPayloadsAtIndex(env.client.options.loadedDataConverter, 0, [e.userMetadata.summary]),
        );
    }
    expect(summaries.at(-1)).toMatch(
      /^Fourthline signature · waiting for the client's approval · window closes \d{4}-\d\d-\d\d \d\d:\d\d UTC · wakes /,
    );
  });

  test('approve at 2h01 is refused by the workflow, Fourthline never called; the verification expires', async () => {
    const { f, v, a } = await toApproval('approve-late', { maxSignatureAttempts: 1 });
    await f.action(v.id, 'signature-details');
    await env.sleep('121m');
    const res = await f.action(v.id, 'approve', {});
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('window_closed');
    expect(res.body.error.message).toContain('approval window closed');
    const sb = await vendorSignature(a.signatureId);
    expect(sb.approvals).toBe(0);
    expect(sb.calls.map((c) => c.op)).not.toContain('approve');
    const done = await stack.waitFor(v.id, (s) => s.status === 'expired');
    expect(done.outcome).toBe('expired');
    expect(done.nextAction.type).toBe('restart');
  });

  test('when the policy allows, a new signature-only attempt starts by itself after expiry', async () => {
    const { f, v, a } = await toApproval('approve-retry', { maxSignatureAttempts: 2 });
    await env.sleep('121m');
    const second = await f.waitPhase(v.id, 'awaiting_approval', 2);
    expect(second.signatureId).not.toBe(a.signatureId);
    const sig = (await stack.api('GET', `/v1/verifications/${v.id}/signature`)).body;
    expect(sig.attempts[0]).toMatchObject({ attempt: 1, outcome: 'expired' });
    await f.approveAndConfirm(v.id);
    expect((await stack.waitFor(v.id, (s) => s.status === 'completed')).outcome).toBe('approved');
  });
});

describe('confirmation window (1 h after confirmation_required) and passcode (2 h)', () => {
  test('confirm at 59 min succeeds', async () => {
    const { f, v } = await toApproval('confirm-in-time', { maxSignatureAttempts: 1 });
    await f.action(v.id, 'signature-details');
    await f.action(v.id, 'approve', {});
    await env.sleep('59m');
    expect((await f.action(v.id, 'confirm', { passcode: await f.passcode(v.id) })).status).toBe(200);
    expect((await stack.waitFor(v.id, (s) => s.status === 'completed')).outcome).toBe('approved');
  });

  test('confirm at 61 min is refused by the workflow, Fourthline never called', async () => {
    const { f, v, a } = await toApproval('confirm-late', { maxSignatureAttempts: 1 });
    await f.action(v.id, 'signature-details');
    await f.action(v.id, 'approve', {});
    const passcode = await f.passcode(v.id);
    await env.sleep('61m');
    const res = await f.action(v.id, 'confirm', { passcode });
    expect(res.status).toBe(422);
    expect(res.body.error.message).toContain('confirmation window closed');
    expect((await vendorSignature(a.signatureId)).confirmations).toBe(0);
    expect((await stack.waitFor(v.id, (s) => s.status === 'expired')).reason).toContain('confirmation window closed');
  });

  test('the passcode is valid 2 hours (with a longer confirmation window)', async () => {
    const { f, v } = await toApproval('passcode', { maxSignatureAttempts: 1, confirmationWindow: '3 hours' });
    await f.action(v.id, 'signature-details');
    await f.action(v.id, 'approve', {});
    await env.sleep('121m');
    expect((await stack.waitFor(v.id, (s) => s.status === 'expired')).reason).toContain('the passcode expired');
  });
});

test('selfie not uploaded within 24 h: the attempt ends in error; a new attempt follows', async () => {
  const { f, v, a } = await toApproval('selfie-late', { maxSignatureAttempts: 2 }, 'selfie-required');
  await env.sleep('1439m');
  expect((await f.current(v.id)).phase).toBe('awaiting_selfie');
  await env.sleep('2m');
  const second = await f.waitPhase(v.id, 'awaiting_approval', 2);
  expect(second.signatureId).not.toBe(a.signatureId);
  const first = (await stack.api('GET', `/v1/verifications/${v.id}/signature`)).body.attempts[0];
  expect(first).toMatchObject({ outcome: 'error' });
  expect(first.reason).toContain('no selfie within 24 hours');
});

test('the 24 h error: a signature still in error 24 h after it started ends in error; a new attempt follows', async () => {
  const { f, v } = await toApproval('error-24h', { maxSignatureAttempts: 2 }, 'unrecoverable-error');
  await f.action(v.id, 'signature-details');
  expect((await f.action(v.id, 'approve', {})).body.attempt.phase).toBe('vendor_error');
  await env.sleep('23h');
  expect((await f.current(v.id)).phase).toBe('vendor_error');
  await env.sleep('61m');
  await f.waitPhase(v.id, 'awaiting_approval', 2);
  const first = (await stack.api('GET', `/v1/verifications/${v.id}/signature`)).body.attempts[0];
  expect(first).toMatchObject({ outcome: 'error' });
  expect(first.reason).toContain('24 hours');
});
