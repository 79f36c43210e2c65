/**
 * One Fourthline signature attempt (a child of the case, named after Fourthline's signatureId):
 *
 *   new -> pending | kyc_required
 *       -> (documents, mobile number) user_consent_required | selfie_required | kyc_required | error
 *       -> (details, approve <= 2 h) confirmation_required | kyc_required | error
 *       -> (confirm <= 1 h, passcode <= 2 h) signed | pending_verification | invalid_signature | kyc_required | error
 *
 * The loop waits for a webhook (a nudge: it always reads the status before acting), a human step,
 * the next poll, or the phase's deadline (fourthline-windows.ts: the vendor's window, and always the
 * case deadline). Polls that see nothing new back off up to 6 h; phases only the integrator can move
 * (documents, mobile number) are not polled at all, so a forgotten case stays small until its deadline.
 */
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  fourthlineAttemptQuery,
  fourthlineSignatureWebhookSignal,
  stopAttemptSignal,
  type AttemptResult,
  type FourthlineSignatureInput,
} from './fourthline-messages';
import { fl } from './fourthline-vendor';
import { nextDeadline, nextPollInterval, PHASE_WAITS, vendorMayMove } from './fourthline-windows';
import { SignatureAttempt } from './fourthline-signature-attempt';
import { registerSignatureSteps } from './fourthline-signature-steps';
import { isTransientVendorFailure } from './vendor-outage';
import { ms, utc, waitSummary } from './time';

export async function fourthlineSignature(input: FourthlineSignatureInput): Promise<AttemptResult> {
  const s = new SignatureAttempt(input, workflowInfo().workflowId);
  setHandler(fourthlineAttemptQuery, () => s.view);
  setHandler(fourthlineSignatureWebhookSignal, () => {
    // A nudge only (thin, maybe stale or duplicated): the loop reads the status. Ignored once ended.
    if (!s.ended) s.nudged = true;
  });
  setHandler(stopAttemptSignal, ({ reason, outcome }) => {
    s.stop ??= { reason, outcome: outcome ?? 'cancelled' };
  });
  registerSignatureSteps(s);

  try {
    await run(s);
  } catch (err) {
    if (isCancellation(err)) s.end('cancelled', 'the signature attempt was cancelled');
    else if (err instanceof ActivityFailure)
      s.end('error', err.cause instanceof ApplicationFailure ? err.cause.message : err.message);
    else throw err;
  }
  // A human step still running finishes before the attempt closes (cancelled or not).
  await CancellationScope.nonCancellable(async () => {
    await condition(allHandlersFinished);
    await s.report();
  });
  return {
    outcome: s.view.outcome!,
    reason: s.view.reason!,
    documents: s.documents,
    mobileRef: s.mobileRef,
    evidence: s.evidence,
  };
}

/**
 * Reads the status and applies it, unless a human step applied a newer answer while this read was
 * under way (then the read is stale and we read again). False when the vendor did not answer.
 */
async function refresh(s: SignatureAttempt): Promise<boolean> {
  const before = s.version;
  try {
    const r = await fl.fourthlineGetSignatureStatus({ signatureId: s.input.signatureId });
    s.unreachableSince = null;
    if (s.version !== before || s.busy) s.nudged = true;
    else s.apply(r);
    return true;
  } catch (err) {
    if (!isTransientVendorFailure(err)) throw err;
    s.unreachableSince ??= Date.now();
    await s.report();
    return false;
  }
}

/** The documents and mobile number of an earlier attempt, uploaded again by the workflow. True when it did one. */
async function carryForward(s: SignatureAttempt): Promise<boolean> {
  const { input, view } = s;
  if (view.phase === 'awaiting_documents' && input.documents && !s.documents) {
    await fl.fourthlineUploadDocuments({ signatureId: input.signatureId, documents: input.documents });
    s.documents = input.documents;
    for (const d of input.documents) s.evidence.push(d.ref);
    s.apply({ status: 'pending', statusCode: null });
    return true;
  }
  if (view.phase === 'awaiting_mobile' && input.mobileRef && !s.mobileRef) {
    s.mobileRef = input.mobileRef;
    s.apply(await fl.fourthlineUploadMobileNumber({ signatureId: input.signatureId, mobileRef: input.mobileRef }));
    return true;
  }
  return false;
}

async function run(s: SignatureAttempt): Promise<void> {
  const o = s.input.options;
  const { signatureId } = s.input;
  let interval = ms(o.pollInterval);
  // What a read can change: a poll that sees the same is "no change" and backs off (x2, up to 6 h). Not
  // `s.version`: apply() bumps it on every read, so the interval would never grow and a 24 h selfie wait
  // would poll about a thousand times.
  const seenByPoll = () => `${s.view.phase}|${s.view.providerStatus}|${s.view.outcome}`;
  await refresh(s);
  while (!s.ended) {
    if (s.busy) {
      // A human step is under way: its answer decides; no window closes under its feet.
      await condition(() => !s.busy);
      continue;
    }
    if (s.stop !== null) return s.end(s.stop.outcome, s.stop.reason);
    if (s.vendorExpired !== null) return s.end('expired', s.vendorExpired);
    if (await carryForward(s)) continue;
    if (s.view.phase === 'signed') {
      const ids =
        s.shown?.documents.map((d) => d.documentId) ??
        (await fl.fourthlineGetSignatureDetails({ signatureId, language: o.language })).documents.map(
          (d) => d.documentId,
        );
      const signed = await fl.fourthlineDownloadSigned({ signatureId, documentIds: ids });
      s.evidence.push(...signed.documents, ...(signed.contract ? [signed.contract] : []));
      return s.end('signed', `signed${signed.contract ? '; InfoCert contract stored' : ''}`);
    }
    const deadline = nextDeadline(s.view.phase, s.clocks, o, s.input.caseDeadlineAt ?? null);
    const now = Date.now();
    if (deadline && now >= deadline.at) return s.end(deadline.outcome, deadline.reason);
    const seen = s.version;
    const polls = vendorMayMove(s.view.phase);
    const wait = Math.min(polls ? interval : Infinity, deadline ? deadline.at - now : Infinity);
    const wake = () => s.nudged || s.stop !== null || s.vendorExpired !== null || s.busy || s.version !== seen;
    const woken =
      wait === Infinity
        ? (await condition(wake), true)
        : await condition(
            wake,
            wait,
            waitSummary(
              `Fourthline signature · ${PHASE_WAITS[s.view.phase]}${deadline ? ` · window closes ${utc(deadline.at)}` : ''}`,
              now + wait,
            ),
          );
    if (s.stop !== null || s.vendorExpired !== null || s.busy || s.version !== seen) {
      interval = ms(o.pollInterval);
      continue;
    }
    if (!woken && (!polls || (deadline && Date.now() >= deadline.at))) continue; // the deadline check above ends it
    const nudged = s.nudged;
    s.nudged = false;
    const before = seenByPoll();
    const answered = await refresh(s);
    const changed = seenByPoll() !== before;
    interval = nextPollInterval(interval, nudged || !answered || changed, o);
  }
}
