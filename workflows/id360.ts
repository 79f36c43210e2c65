/**
 * ID360 (Docaposte) user enrollment (../shared/vendor-docs/id360-docaposte-enrollment.txt).
 *
 * Vendor state machine:  NEW -> STARTED -> OK | KO | FAILED | CANCELED (reason ERL_TIMEOUT: ID360's own clock)
 *
 * API mode (default): our caller's backend plays the user's steps through actions on the verification,
 * each one an Update whose validator refuses a step out of order before anything is recorded:
 *   create the enrollment -> data comparisons (optional, locked) -> enrollment_info + select the route
 *   -> [consent] -> [upload-document-page] x total_pages -> [upload-selfie] (needs biometry consent)
 *   -> [finalize] (mandatory) -> wait for the final callback, polling every `pollInterval` as a fallback
 *   -> OK / KO: report JSON + PDF into the evidence store, outcome from the report's status.
 * Browser mode: create -> data comparisons -> nextAction redirect (our link to ID360's pages) -> the user does
 *   the steps there -> the same wait for the final callback.
 * Deadline: `deadline` from creation to a final status, whatever the phase; then the verification expires.
 *
 * Callbacks are a signal carrying ID360's status (authenticated by the API with the header we registered).
 * A final status is kept the first time it is seen, from a callback or from polling; an intermediate status
 * (a STARTED retried by ID360 after the final one, a duplicate) never undoes it: status wins over arrival order.
 *
 * Secrets: the enrollment's api_key travels only sealed (activities/id360-secrets.ts); the login token never
 * leaves the worker's Id360Session. Document bytes are in the evidence store; the workflow carries EvidenceRefs.
 */
import { allHandlersFinished, condition, continueAsNew, setHandler } from '@temporalio/workflow';
import type { Id360DataName } from '../activities/id360';
import { RESTART_WITH_NEW_REFERENCE, type VerificationState, type VerificationStatus } from './shared';
import { VendorOutage } from './vendor-outage';
import { Verification } from './verification';
import { ms, waitSummary } from './time';
import { recordUnansweredCreates, recordVendorDuplicate } from './vendor-duplicates';
import { runIsFull } from './run-length';
import {
  id360CallbackSignal,
  ID360_VENDOR,
  type Id360Callback,
  type Id360Flow,
  type Id360Input,
} from './id360-messages';
import { holdForMs, id360 } from './id360-vendor';
import { conclude, isFinal } from './id360-outcome';
import { setActionHandlers, nextStep } from './id360-actions';

// What the API, the vendor registry and the tests know of this workflow.
export {
  ID360_ACTION_FAILURES,
  ID360_DEFAULTS,
  ID360_MAX_PAGES,
  ID360_VENDOR,
  id360CallbackSignal,
  id360ConsentUpdate,
  id360FinalizeUpdate,
  id360UploadPageUpdate,
  id360UploadSelfieUpdate,
  type Id360Callback,
  type Id360Flow,
  type Id360Input,
  type Id360Options,
} from './id360-messages';
export { decideId360Outcome } from './id360-outcome';

export async function id360Enrollment(input: Id360Input): Promise<VerificationState> {
  const v = new Verification(ID360_VENDOR, input.id, input.reference, input.carried?.state);
  const outage = new VendorOutage('ID360', v, input.carried?.outageSince ?? null);
  // A carried flow is in a polling phase with no step under way (awaitFinalStatus continues only then).
  const flow: Id360Flow = input.carried
    ? { ...input.carried.flow, busy: 0 }
    : {
        phase: 'opening',
        enrollment: null,
        deadlineAt: Date.now() + ms(input.options.deadline),
        final: null,
        consent: null,
        totalPages: null,
        pages: [],
        selfie: false,
        busy: 0,
        lastIntermediate: null,
      };
  setCallbackHandler(v, flow);
  setActionHandlers(v, flow);

  await v.runToEnd(() => run(v, flow, input, outage), {
    // ID360 may have ended the enrollment while we were still setting it up (its own clock, the user
    // cancelling): then its final status, not the refusal of our next step, is the outcome.
    onVendorFailure: async () => {
      if (flow.final && flow.final.status !== 'OK' && flow.final.status !== 'KO') await conclude(v, flow, flow.final);
    },
    // This worker stops keeping ID360's token alive for the enrollment (it would stop by itself at the deadline).
    release: async (continuing) => {
      const enrollmentId = flow.enrollment?.enrollmentId;
      if (enrollmentId && !continuing) await id360.id360EndEnrollment({ enrollmentId });
    },
    continueAsNew: () =>
      continueAsNew<typeof id360Enrollment>({ ...input, carried: { state: v.state, flow, outageSince: outage.since } }),
  });
  return v.state;
}

/** Runs the flow; answers 'continue' when this run's history has grown enough to continue as new. */
async function run(
  v: Verification,
  flow: Id360Flow,
  input: Id360Input,
  outage: VendorOutage,
): Promise<'continue' | undefined> {
  if (input.carried) return awaitFinalStatus(v, flow, input, outage);
  const o = input.options;
  const hold = () => holdForMs(flow);

  const created = await id360.id360CreateEnrollment({
    workflowId: input.id,
    reference: input.reference,
    mode: o.mode,
    applicant: input.applicant,
    ...(o.returnUrl ? { returnUrl: o.returnUrl } : {}),
    holdForMs: hold(),
  });
  const { workflowId, enrollmentId, sealedApiKey } = created;
  flow.enrollment = { workflowId, enrollmentId, sealedApiKey };
  v.setProviderReference(enrollmentId);
  v.note('enrollment created', `status ${created.status}`);
  recordUnansweredCreates(v, 'enrollment', created.createsUnanswered);

  // Expected values first, locked, so that neither our caller nor the user can change them later.
  for (const [field, value] of Object.entries(input.compare) as [Id360DataName, string | undefined][]) {
    if (!value) continue;
    await id360.id360CompareData({ enrollmentId, field, value, holdForMs: hold() });
    v.note('data comparison sent', field);
  }

  if (o.mode === 'browser') {
    flow.phase = 'with-user';
    v.progress('awaiting_user', 'waiting for the user in ID360', {
      providerStatus: created.status,
      nextAction: { type: 'redirect', url: created.userUrl! },
    });
  } else {
    const info = await id360.id360GetEnrollmentInfo({ ...flow.enrollment, holdForMs: hold() });
    const routeId = o.routeId ?? info.routes[0];
    if (routeId === undefined || !info.routes.includes(routeId)) {
      v.finish(
        'failed',
        'error',
        o.routeId ? `ID360 does not offer route ${o.routeId} on this process` : 'ID360 offers no route on this process',
        { nextAction: RESTART_WITH_NEW_REFERENCE },
      );
      return undefined;
    }
    await id360.id360SelectRoute({ ...flow.enrollment, routeId, holdForMs: hold() });
    flow.phase = 'collecting';
    v.progress('awaiting_user', 'route selected', { detail: `route ${routeId}`, nextAction: nextStep(flow) });
  }

  return awaitFinalStatus(v, flow, input, outage);
}

/**
 * Waits for ID360's final status (callback, or polling once the enrollment is in ID360's hands) until the
 * deadline. Answers 'continue' when the run should continue as new: only while polling, with no verdict, no cancel
 * and every handler finished, so that the next run takes over exactly this flow.
 */
async function awaitFinalStatus(
  v: Verification,
  flow: Id360Flow,
  input: Id360Input,
  outage: VendorOutage,
): Promise<'continue' | undefined> {
  const o = input.options;
  const enrollmentId = flow.enrollment!.enrollmentId;
  let polls = 0;
  while (!v.ended) {
    const remaining = flow.deadlineAt - Date.now();
    if (remaining <= 0) {
      v.finish('expired', 'expired', `no final status from ID360 within ${String(o.deadline)}${outage.suffix()}`, {
        nextAction: RESTART_WITH_NEW_REFERENCE,
      });
      return undefined;
    }
    // Before finalize (API mode) nothing happens at ID360 without us: no polling, callbacks or the deadline end it.
    const polling = flow.phase === 'with-user' || flow.phase === 'processing';
    const phase = flow.phase;
    const settled = () => flow.final === null && v.cancelRequested === null;
    if (polling && settled() && runIsFull(polls, input.pollsPerRun)) {
      // Drain first (a cancel or a callback landing meanwhile is handled by the loop, not carried).
      await condition(() => allHandlersFinished() || !settled());
      if (settled() && flow.busy === 0) return 'continue';
      continue;
    }
    const wait = polling ? Math.min(ms(o.pollInterval), remaining) : remaining;
    const what = polling
      ? 'ID360 enrollment · waiting for a callback or the next poll'
      : 'ID360 enrollment · waiting for the user or a callback';
    const woken = await condition(
      () => flow.final !== null || v.cancelRequested !== null || flow.phase !== phase,
      wait,
      waitSummary(what, Date.now() + wait, Date.now() + remaining),
    );
    // A verdict already in hand is still concluded (its report is stored); a cancel accepted before
    // the final decision wins all the same (Verification.finish): cancel has one meaning.
    if (flow.final) {
      await conclude(v, flow, flow.final);
      return undefined;
    }
    if (v.cancelRequested !== null) {
      // ID360 documents no cancel call: the enrollment is left to expire on its side.
      v.finish('cancelled', null, v.cancelRequested);
      return undefined;
    }
    if (woken || !polling || Date.now() >= flow.deadlineAt) continue;
    polls++;
    // An outage shorter than the deadline never ends the flow: the next slot reads again.
    const read = await outage.read(() => id360.id360GetStatus({ enrollmentId, holdForMs: holdForMs(flow) }));
    if (!read) continue;
    if (isFinal(read.status)) {
      if (!flow.final) flow.final = { status: read.status, reason: read.reason, via: 'polling' };
    } else if (read.status !== v.state.providerStatus) {
      v.progress(currentStatus(v), 'status read by polling', { providerStatus: read.status });
    }
  }
  return undefined;
}

function setCallbackHandler(v: Verification, flow: Id360Flow): void {
  setHandler(id360CallbackSignal, async (cb) => {
    // A callback before the create's answer (ID360 called back first, or an orphan of a create whose
    // answer was lost called): wait until our enrollment is known, so that an orphan never decides.
    if (!flow.enrollment && !v.ended) await condition(() => flow.enrollment !== null || v.ended);
    onCallback(v, flow, cb);
  });
}

function onCallback(v: Verification, flow: Id360Flow, cb: Id360Callback): void {
  // Every enrollment of this verification calls back to its own URL: another id is an orphan of a
  // lost create. Recorded and flagged (even after the end), never taken as our status.
  if (flow.enrollment && cb.enrollmentId !== flow.enrollment.enrollmentId) {
    if (!recordVendorDuplicate(v, 'enrollment', cb.enrollmentId) && !v.ended && !flow.final)
      v.note('callback ignored', 'it names another enrollment');
    return;
  }
  // Once a final status is known, every callback is ignored on purpose: ID360 retries deliveries, so
  // duplicates come, and a STARTED sent before the verdict can land after it. The status decides, not the order.
  if (v.ended || flow.final) return;
  if (isFinal(cb.status)) {
    flow.final = { status: cb.status, reason: cb.reason, via: 'callback' };
    v.note('callback received', `status ${cb.status}${cb.reason ? ` (${cb.reason})` : ''}`);
    return;
  }
  // Intermediate news (which steps ID360 has seen). A repeat of the same news is a duplicate: ignored.
  const steps = Object.entries(cb.steps)
    .map(([step, state]) => `${step} ${state}`)
    .join(', ');
  const detail = `status ${cb.status}${steps ? `: ${steps}` : ''}`;
  if (detail === flow.lastIntermediate) return;
  flow.lastIntermediate = detail;
  v.progress(currentStatus(v), 'callback received', { providerStatus: cb.status, detail });
}

/** The current non-terminal status (only called while the flow runs). */
function currentStatus(v: Verification): Exclude<VerificationStatus, 'completed' | 'failed' | 'expired' | 'cancelled'> {
  return v.state.status as Exclude<VerificationStatus, 'completed' | 'failed' | 'expired' | 'cancelled'>;
}
