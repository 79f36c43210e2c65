/**
 * The case's signature phase: one child workflow per signature attempt (fourthline-signature.ts),
 * raced against the case deadline, a cancel and the case ending badly; a new signature-only attempt
 * when the policy allows. Also what the case shows (status, nextAction) while an attempt runs.
 */
import { condition, startChild } from '@temporalio/workflow';
import type { NextAction } from './shared';
import type { Verification } from './verification';
import {
  newAttemptView,
  signatureWorkflowId,
  stopAttemptSignal,
  fourthlineEligible,
  type AttemptResult,
  type AttemptView,
  type DocumentToSign,
  type RunningAttempt,
} from './fourthline-messages';
import { fourthlineSignature } from './fourthline-signature';
import { fl } from './fourthline-vendor';
import { nextPollInterval } from './fourthline-windows';
import { IDV_AND_QES, SIGNATURE_ONLY, type FourthlineCaseRun } from './fourthline-case-run';
import type { EvidenceRef } from './shared';
import { ms, waitSummary } from './time';
import { recordUnansweredCreates } from './vendor-duplicates';

/** An attempt that outlives the case deadline by this much is gone for good (the backstop, never the mechanism). */
const ATTEMPT_BACKSTOP = 7 * 24 * 3_600_000;

/** The pending flow: the case goes on while the client signs. Reads back off while nothing changes. */
async function watchCase(r: FourthlineCaseRun): Promise<void> {
  let interval = ms(r.o.pollInterval);
  while (!r.v.ended && r.caseIs('pending')) {
    const before = r.view.caseStatus;
    if (!(await r.readCase(interval))) return; // the attempt race ends the verification at the deadline
    interval = nextPollInterval(interval, r.view.caseStatus !== before, r.o);
  }
  if (r.v.ended) return;
  await r.storeCdd();
  // (The attempts loop sees inconsistent_data too and stops the running attempt.)
}

const attemptSettled = (a: RunningAttempt) => a.result !== null || a.failure !== null;

/** What the case keeps of an attempt that ended: its outcome on the attempt's line, its evidence, a note. */
function recordAttemptEnd(r: FourthlineCaseRun, running: RunningAttempt, res: AttemptResult): void {
  Object.assign(running.view, {
    outcome: res.outcome,
    reason: res.reason,
    phase: 'ended',
    endedAt: running.view.endedAt ?? new Date().toISOString(),
  });
  for (const e of res.evidence) r.v.addEvidence(e);
  r.v.note(`signature attempt ${running.n} ended`, `${res.outcome}: ${res.reason}`);
  r.running = null;
}

/**
 * After a cancel from Temporal (Web UI, CLI), before the case ends: the running attempt, cancelled with
 * the case's scope, ends first (up to a minute) and the case records how. Without this wait the case
 * closed first: the attempt's last report was lost, and the parent close policy could terminate it.
 */
export async function settleCancelledAttempt(r: FourthlineCaseRun): Promise<void> {
  const running = r.running;
  if (!running) return;
  await condition(
    () => attemptSettled(running),
    '1 minute',
    waitSummary(`Fourthline case · cancelled: waiting for signature attempt ${running.n} to stop`, Date.now() + 60_000),
  );
  // An attempt that did not answer still shows as ended, with why (the parent close policy ends it).
  const why = running.failure
    ? `it ended without a result: ${running.failure.message}`
    : 'it did not stop within a minute';
  recordAttemptEnd(
    r,
    running,
    running.result ?? {
      outcome: 'cancelled',
      reason: `the case was cancelled; ${why}`,
      documents: null,
      mobileRef: null,
      evidence: [],
    },
  );
}

export async function signatureAttempts(r: FourthlineCaseRun): Promise<void> {
  const { v, view, o, input } = r;
  if (o.flow === 'pending') void watchCase(r).catch(() => undefined);
  let documents: DocumentToSign[] | null = null;
  let mobileRef: EvidenceRef | null = null;
  for (let n = view.attempts.length + 1; ; n++) {
    if (Date.now() >= r.deadlineAt) return r.expire('before a new signature attempt');
    let signatureId = view.verificationId!;
    if (n > 1) {
      const created = await fl.fourthlineCreateWorkflow({
        workflowName: 'french-qes',
        clientReference: input.reference,
        verificationId: view.verificationId!,
      });
      signatureId = created.workflowId;
      recordUnansweredCreates(v, 'signature workflow', created.createsUnanswered);
    }
    const a = newAttemptView(n, signatureId, signatureWorkflowId(signatureId));
    view.attempts.push(a);
    view.current = a;
    v.setFacts({ signatureAttempt: n });
    v.note('signature attempt started', `attempt ${n}`);
    const child = await startChild(fourthlineSignature, {
      workflowId: a.workflowId,
      args: [
        {
          parentId: input.id,
          verificationId: view.verificationId!,
          signatureId,
          attempt: n,
          options: o,
          documents,
          mobileRef,
          caseDeadlineAt: r.deadlineAt,
        },
      ],
      workflowExecutionTimeout: Math.max(60_000, r.deadlineAt - Date.now()) + ATTEMPT_BACKSTOP,
    });
    const running: RunningAttempt = { n, view: a, result: null, failure: null };
    r.running = running;
    child.result().then(
      (x) => (running.result = x),
      (e: Error) => (running.failure = e),
    );
    const settled = () => attemptSettled(running);
    // The case deadline, a cancel and the case ending badly (pending flow) stop the attempt.
    const inTime = await condition(
      () => settled() || v.cancelRequested !== null || v.ended || view.caseStatus === 'inconsistent_data',
      Math.max(1, r.deadlineAt - Date.now()),
      waitSummary(`Fourthline case · signature attempt ${n} running`, r.deadlineAt),
    );
    if (!settled()) {
      if (!inTime) r.expire(`while signature attempt ${n} was ${a.phase.replace('_', ' ')}`);
      const outcome = !inTime && v.cancelRequested === null ? 'expired' : 'cancelled';
      await child
        .signal(stopAttemptSignal, {
          reason: v.cancelRequested ?? (inTime ? 'the case ended' : 'the case deadline passed'),
          outcome,
        })
        .catch(() => undefined);
      await condition(
        settled,
        '10 minutes',
        waitSummary(`Fourthline case · waiting for signature attempt ${n} to stop`, Date.now() + 600_000),
      );
    }
    const res = running.result;
    if (res === null) {
      // Terminated, timed out or failed (a bug) on the Temporal side: a vendor-side error a person must look at.
      const why = running.failure ? running.failure.message : 'no result 10 minutes after it was asked to stop';
      v.needsAttention('signature_attempt_lost', `signature attempt ${n} ended without a result: ${why}`);
      v.finish('failed', 'error', `signature attempt ${n} ended without a result (${why})`, {
        nextAction: SIGNATURE_ONLY,
      });
      return;
    }
    recordAttemptEnd(r, running, res);
    documents = res.documents ?? documents;
    mobileRef = res.mobileRef ?? mobileRef;
    if (v.ended || v.cancelRequested !== null) return;
    if (r.endOnCaseFailure()) return;

    switch (res.outcome) {
      case 'signed':
        await r.storeCdd();
        v.finish('completed', 'approved', `the documents were signed (attempt ${n})`, { providerStatus: 'signed' });
        return;
      case 'kyc_required':
        v.finish(
          'completed',
          'rejected',
          `the client did not pass the eligibility checks (kyc_required): ${res.reason}`,
          { providerStatus: 'kyc_required', nextAction: IDV_AND_QES },
        );
        return;
      case 'cancelled':
        return;
      case 'expired':
      case 'error':
      case 'invalid_signature': {
        const finish = () =>
          res.outcome === 'expired'
            ? v.finish('expired', 'expired', `signature attempt ${n}: ${res.reason}`, {
                providerStatus: res.outcome,
                nextAction: SIGNATURE_ONLY,
              })
            : res.outcome === 'invalid_signature'
              ? v.finish('completed', 'rejected', `signature attempt ${n}: ${res.reason}`, {
                  providerStatus: res.outcome,
                  nextAction: SIGNATURE_ONLY,
                })
              : v.finish('failed', 'error', `signature attempt ${n}: ${res.reason}`, {
                  providerStatus: res.outcome,
                  nextAction: SIGNATURE_ONLY,
                });
        if (n >= o.maxSignatureAttempts || Date.now() >= r.deadlineAt) return void finish();
        // A new signature-only workflow, if the case is still eligible (read it now: it may have moved).
        r.applyCase(
          await fl.fourthlineGetCase({ verificationId: view.verificationId! }),
          'case read before a new attempt',
        );
        if (r.endOnCaseFailure()) return;
        if (!fourthlineEligible({ status: view.caseStatus!, riskScore: view.riskScore }, o.flow)) return void finish();
        continue;
      }
    }
  }
}

/** The case's status and nextAction while an attempt runs: every step the integrator must take, by name. */
export function showAttempt(v: Verification, a: AttemptView, detailsShown: boolean): void {
  const w = a.windows;
  const act = (action: string, reason: string, deadline: string | null): NextAction => ({
    type: 'action',
    action,
    reason,
    ...(deadline ? { deadline } : {}),
  });
  const ps = a.providerStatus;
  const event = `signature ${ps ?? a.phase}`;
  const wait = (reason: string) =>
    v.progress('processing', event, { providerStatus: ps, nextAction: { type: 'wait', reason } });
  const ask = (action: string, reason: string, deadline: string | null) =>
    v.progress('awaiting_user', event, { providerStatus: ps, nextAction: act(action, reason, deadline) });
  switch (a.phase) {
    case 'awaiting_documents':
      return ask('documents', 'upload the documents to sign', null);
    case 'awaiting_mobile':
      return ask('mobile-number', "set the client's mobile number", null);
    case 'awaiting_selfie':
      return ask('selfie', 'upload a selfie of the client', w.selfieBy);
    case 'awaiting_approval':
      return detailsShown
        ? ask('approve', 'approve the documents and legal conditions shown to the client', w.approveBy)
        : ask(
            'signature-details',
            'get the signature details (documents and legal conditions) and show them to the client',
            w.approveBy,
          );
    case 'awaiting_confirmation':
      return ask('confirm', 'confirm with the passcode sent by SMS', w.confirmBy);
    case 'vendor_error':
      return wait('Fourthline reported an error; waiting for it to recover');
    case 'pending_verification':
      return wait('signed; Fourthline is completing the identity case');
    case 'awaiting_eligibility':
    case 'starting':
    case 'signed':
      return wait('waiting for Fourthline');
    case 'ended':
      return;
  }
}
