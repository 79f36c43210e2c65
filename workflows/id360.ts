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
import {
  ActivityFailure,
  allHandlersFinished,
  isCancellation,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  defineSignal,
  defineUpdate,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type {
  Id360Activities,
  Id360Applicant,
  Id360DataName,
  Id360EnrollmentRef,
  Id360ReportSummary,
  Id360Status,
} from '../activities/id360';
import type {
  EvidenceRef,
  NextAction,
  VerificationInputBase,
  VerificationOutcome,
  VerificationState,
  VerificationStatus,
} from './shared';
import { VendorOutage } from './vendor-outage';
import { NATIVE_CANCEL_REASON, Verification } from './verification';
import { ms, waitSummary } from './time';
import { recordUnansweredCreates, recordVendorDuplicate } from './vendor-duplicates';
import { activitiesOn } from './activity-queues';

export interface Id360Input extends VerificationInputBase {
  /** Informational fields ID360 stores with the enrollment (it checks none of them). */
  applicant: Id360Applicant;
  /** Expected values ID360 compares with the identity document (locked once sent). */
  compare: Partial<Record<Id360DataName, string>>;
  options: Id360Options;
  /** Set by continue-as-new only: the verification so far and the flow (absolute deadline, enrollment, verdict seen). */
  carried?: { state: VerificationState; flow: Id360Flow; outageSince: number | null };
  /** Test-only: continue as new after this many polls (default ID360_POLLS_PER_RUN). */
  pollsPerRun?: number;
}

/**
 * Polls per run before continuing as new (about 11 events a poll: a run stays near 3,300 events). The API
 * allows a 1-minute poll over a 30-day deadline, 43,200 polls: one run would pass Temporal's 51,200 events.
 */
export const ID360_POLLS_PER_RUN = 300;

export interface Id360Options {
  /** `api`: our caller uploads through actions; `browser`: the user does the steps in ID360's pages. */
  mode: 'api' | 'browser';
  /** Where ID360 sends the user's browser at the end (browser mode). */
  returnUrl?: string;
  /** The route to select; by default the first (in the doc's setup, the only) route ID360 offers. */
  routeId?: number;
  /** How often to read the status when no callback comes (once the enrollment is in ID360's hands). */
  pollInterval: Duration;
  /** From creation to a final status; then the verification expires. */
  deadline: Duration;
}

/**
 * The doc gives no enrollment lifetime: we assume ID360 expires an unfinished enrollment (ERL_TIMEOUT) after
 * 24 hours, as the sandbox does, and give ID360's own verdict one more hour to reach us before we give up.
 */
/** Who this workflow is for the shared tracker (its Web UI summaries) and for config/vendors/id360.ts. */
export const ID360_VENDOR = { name: 'id360', label: 'ID360 enrollment' } as const;

export const ID360_DEFAULTS = { mode: 'api', pollInterval: '15 minutes', deadline: '25 hours' } as const;

/** ID360's callback, as the receiver validated it (no personal data in it). */
export interface Id360Callback {
  enrollmentId: string;
  status: Id360Status;
  reason: string | null;
  /** Step name -> state, for intermediate callbacks. */
  steps: Record<string, string>;
}

export const id360CallbackSignal = defineSignal<[Id360Callback]>('id360Callback');

// The actions of API mode. Each validator refuses a step out of order (the API answers 409) before any
// vendor call; a vendor refusal of the step itself fails the update with type Id360VendorRejected (4xx).
export const id360ConsentUpdate = defineUpdate<
  VerificationState,
  [{ acceptedCgu: boolean; acceptedBiometry: boolean }]
>('id360Consent');
export const id360UploadPageUpdate = defineUpdate<
  VerificationState,
  [{ page: number; totalPages: number; document: EvidenceRef }]
>('id360UploadDocumentPage');
export const id360UploadSelfieUpdate = defineUpdate<VerificationState, [{ selfie: EvidenceRef }]>('id360UploadSelfie');
export const id360FinalizeUpdate = defineUpdate<VerificationState, []>('id360Finalize');

export const ID360_ACTION_FAILURES = {
  /** The step is not possible now (validator). */
  refused: 'Id360ActionRefused',
  /** ID360 answered 4xx to the step (format, size, state). */
  rejected: 'Id360VendorRejected',
  /** ID360 did not answer in time. */
  unavailable: 'Id360VendorUnavailable',
} as const;

export const ID360_MAX_PAGES = 10;

const id360 = activitiesOn<Id360Activities>('id360', {
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '15 seconds', // callVendor heartbeats: a dead worker's attempt is retried within ~15 s
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '2 minutes' },
});

/** The steps our caller is waiting on: short, so that the caller gets an answer while it still listens. */
const steps = activitiesOn<Id360Activities>('id360', {
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '15 seconds', // callVendor heartbeats: a dead worker's attempt is retried within ~15 s
  scheduleToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds' },
});

/** The token is held alive this much past the deadline, for the report downloads that follow a late verdict. */
const HOLD_MARGIN_MS = 10 * 60_000;

type Flow = Id360Flow;
type Phase = 'opening' | 'collecting' | 'finalizing' | 'processing' | 'with-user';

/** Plain data (it lives in workflow state): where the flow is, and what the caller has sent so far. */
export interface Id360Flow {
  phase: Phase;
  enrollment: Id360EnrollmentRef | null;
  deadlineAt: number;
  final: { status: Id360Status; reason: string | null; via: 'callback' | 'polling' } | null;
  consent: { biometry: boolean } | null;
  totalPages: number | null;
  pages: number[];
  selfie: boolean;
  /** Vendor steps under way (uploads, consent): finalize waits for none. */
  busy: number;
  lastIntermediate: string | null;
}

export async function id360Enrollment(input: Id360Input): Promise<VerificationState> {
  const v = new Verification(ID360_VENDOR, input.id, input.reference, input.carried?.state);
  const outage = new VendorOutage('ID360', v, input.carried?.outageSince ?? null);
  // A carried flow is in a polling phase with no step under way (awaitFinalStatus continues only then).
  const flow: Flow = input.carried
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

  let continuing = false;
  try {
    continuing = await run(v, flow, input, outage);
  } catch (err) {
    if (isCancellation(err)) {
      // Cancelled from the Web UI or the CLI: a normalized ending, search attributes included.
      v.finish('cancelled', null, v.cancelRequested ?? NATIVE_CANCEL_REASON);
    } else {
      // A vendor call that failed for good (rejected, invalid response, retries exhausted) ends the
      // verification with outcome `error` and the reason, visible in the API and the Web UI.
      if (!(err instanceof ActivityFailure)) throw err;
      // ID360 may have ended the enrollment while we were still setting it up (its own clock, the user
      // cancelling): then its final status, not the refusal of our next step, is the outcome.
      if (flow.final && flow.final.status !== 'OK' && flow.final.status !== 'KO') await conclude(v, flow, flow.final);
      v.endOnVendorFailure(err, RESTART);
    }
  } finally {
    // This worker stops keeping ID360's token alive for the enrollment (it would stop by itself at the deadline).
    const enrollmentId = flow.enrollment?.enrollmentId;
    if (enrollmentId && !continuing)
      await CancellationScope.nonCancellable(() => id360.id360EndEnrollment({ enrollmentId }));
  }
  // (Out of the cancelled scope after a native cancel.)
  await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
  if (continuing && !v.ended) {
    // (awaitFinalStatus drained the handlers before it answered: nothing can have come since.)
    await continueAsNew<typeof id360Enrollment>({
      ...input,
      carried: { state: v.state, flow, outageSince: outage.since },
    });
  }
  return v.state;
}

/** Runs the flow; answers true when this run's history has grown enough to continue as new. */
async function run(v: Verification, flow: Flow, input: Id360Input, outage: VendorOutage): Promise<boolean> {
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
        {
          nextAction: RESTART,
        },
      );
      return false;
    }
    await id360.id360SelectRoute({ ...flow.enrollment, routeId, holdForMs: hold() });
    flow.phase = 'collecting';
    v.progress('awaiting_user', 'route selected', { detail: `route ${routeId}`, nextAction: nextStep(flow) });
  }

  return awaitFinalStatus(v, flow, input, outage);
}

/**
 * Waits for ID360's final status (callback, or polling once the enrollment is in ID360's hands) until the
 * deadline. Answers true when the run should continue as new: only while polling, with no verdict, no cancel
 * and every handler finished, so that the next run takes over exactly this flow.
 */
async function awaitFinalStatus(
  v: Verification,
  flow: Flow,
  input: Id360Input,
  outage: VendorOutage,
): Promise<boolean> {
  const o = input.options;
  const enrollmentId = flow.enrollment!.enrollmentId;
  const pollsPerRun = input.pollsPerRun ?? ID360_POLLS_PER_RUN;
  let polls = 0;
  while (!v.ended) {
    const remaining = flow.deadlineAt - Date.now();
    if (remaining <= 0) {
      v.finish('expired', 'expired', `no final status from ID360 within ${String(o.deadline)}${outage.suffix()}`, {
        nextAction: RESTART,
      });
      return false;
    }
    // Before finalize (API mode) nothing happens at ID360 without us: no polling, callbacks or the deadline end it.
    const polling = flow.phase === 'with-user' || flow.phase === 'processing';
    const phase = flow.phase;
    const settled = () => flow.final === null && v.cancelRequested === null;
    if (polling && settled() && (polls >= pollsPerRun || workflowInfo().continueAsNewSuggested)) {
      // Drain first (a cancel or a callback landing meanwhile is handled by the loop, not carried).
      await condition(() => allHandlersFinished() || !settled());
      if (settled() && flow.busy === 0) return true;
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
      return false;
    }
    if (v.cancelRequested !== null) {
      // ID360 documents no cancel call: the enrollment is left to expire on its side.
      v.finish('cancelled', null, v.cancelRequested);
      return false;
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
  return false;
}

async function conclude(v: Verification, flow: Flow, final: NonNullable<Flow['final']>): Promise<void> {
  const enrollmentId = flow.enrollment!.enrollmentId;
  if (final.status === 'OK' || final.status === 'KO') {
    v.progress('processing', `verdict ${final.status} received by ${final.via}`, {
      providerStatus: final.status,
      nextAction: { type: 'wait', reason: 'collecting the ID360 report' },
    });
    const report = await id360.id360FetchReport({ enrollmentId, holdForMs: holdForMs(flow) });
    v.addEvidence(report.reportRef);
    v.setFacts(factsOf(report));
    const pdf = await id360.id360FetchPdfReport({ enrollmentId, holdForMs: holdForMs(flow) });
    v.addEvidence(pdf);
    v.note(
      'report stored',
      `JSON ${report.reportRef.sha256.slice(0, 12)}, PDF ${pdf.sha256.slice(0, 12)} (${pdf.size} bytes)`,
    );
    // The report is ID360's final word on the enrollment: its status decides.
    const d = decideId360Outcome(report.status, report.reason);
    v.finish(d.status, d.outcome, d.reason, {
      providerStatus: report.status,
      ...(d.restart ? { nextAction: RESTART } : {}),
    });
    return;
  }
  v.setFacts({ reason: final.reason });
  const d = decideId360Outcome(final.status, final.reason);
  v.finish(d.status, d.outcome, d.reason, {
    providerStatus: final.status,
    ...(d.restart ? { nextAction: RESTART } : {}),
  });
}

/** The normalized outcome of an ID360 final status. */
export function decideId360Outcome(
  status: Id360Status,
  reason: string | null,
): { status: 'completed' | 'failed' | 'expired'; outcome: VerificationOutcome; reason: string; restart: boolean } {
  const because = reason ? ` (${reason})` : '';
  switch (status) {
    case 'OK':
      return { status: 'completed', outcome: 'approved', reason: 'ID360 verdict OK', restart: false };
    case 'KO':
      return { status: 'completed', outcome: 'rejected', reason: `ID360 verdict KO${because}`, restart: false };
    case 'CANCELED':
      return reason === 'ERL_TIMEOUT'
        ? {
            status: 'expired',
            outcome: 'expired',
            reason: "ID360's time to complete the enrollment ran out (ERL_TIMEOUT)",
            restart: true,
          }
        : { status: 'failed', outcome: 'abandoned', reason: `the enrollment was canceled${because}`, restart: true };
    case 'FAILED':
      return {
        status: 'failed',
        outcome: 'error',
        reason: `ID360 could not complete the enrollment${because}`,
        restart: true,
      };
    case 'DELETED':
      return { status: 'failed', outcome: 'error', reason: `ID360 deleted the enrollment${because}`, restart: true };
    case 'NEW':
    case 'STARTED':
      return {
        status: 'failed',
        outcome: 'error',
        reason: `ID360 reported no final status (${status})`,
        restart: true,
      };
  }
}

function setCallbackHandler(v: Verification, flow: Flow): void {
  setHandler(id360CallbackSignal, async (cb) => {
    // A callback before the create's answer (ID360 called back first, or an orphan of a create whose
    // answer was lost called): wait until our enrollment is known, so that an orphan never decides.
    if (!flow.enrollment && !v.ended) await condition(() => flow.enrollment !== undefined || v.ended);
    onCallback(v, flow, cb);
  });
}

function onCallback(v: Verification, flow: Flow, cb: Id360Callback): void {
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

function setActionHandlers(v: Verification, flow: Flow): void {
  const collecting = () => {
    if (v.ended) refuse(`the verification has already ended as ${v.state.status}`);
    if (v.cancelRequested !== null) refuse('the verification is being cancelled');
    if (flow.phase === 'opening') refuse('the enrollment is not ready yet: retry in a moment');
    if (flow.phase === 'with-user') refuse('this verification runs in browser mode: the user does the steps in ID360');
    if (flow.phase !== 'collecting') refuse('the enrollment has been finalized');
  };
  const hold = () => holdForMs(flow);
  /** Runs one vendor step for the caller; a vendor refusal becomes a failure of the update, not of the flow. */
  const step = async (what: string, call: () => Promise<void>): Promise<void> => {
    flow.busy++;
    try {
      await call();
    } catch (err) {
      throw stepFailure(v, what, err);
    } finally {
      flow.busy--;
    }
  };

  setHandler(
    id360ConsentUpdate,
    async ({ acceptedBiometry }) => {
      if (flow.consent?.biometry === acceptedBiometry) return v.state; // the same consent again: nothing to do
      await step('consent', () =>
        steps.id360RecordConsent({ ...flow.enrollment!, acceptedCgu: true, acceptedBiometry, holdForMs: hold() }),
      );
      flow.consent = { biometry: acceptedBiometry };
      v.audit('consent accepted', null, { acceptedCgu: true, acceptedBiometry });
      v.progress('awaiting_user', 'consent recorded', {
        detail: acceptedBiometry ? 'terms and biometry' : 'terms only',
        nextAction: nextStep(flow),
      });
      return v.state;
    },
    {
      validator: ({ acceptedCgu, acceptedBiometry }) => {
        collecting();
        if (acceptedCgu !== true) refuse("acceptedCgu must be true: ID360 needs the user's acceptance of its terms");
        if (typeof acceptedBiometry !== 'boolean') refuse('acceptedBiometry must be true or false');
        if (flow.consent && flow.consent.biometry !== acceptedBiometry) refuse('the consent has already been recorded');
      },
    },
  );

  setHandler(
    id360UploadPageUpdate,
    async ({ page, totalPages, document }) => {
      await step(`page ${page + 1} of ${totalPages}`, () =>
        steps.id360UploadDocumentPage({ ...flow.enrollment!, page, totalPages, document, holdForMs: hold() }),
      );
      flow.totalPages = totalPages;
      if (!flow.pages.includes(page)) flow.pages.push(page);
      v.addEvidence(document);
      v.progress('awaiting_user', 'document page uploaded', {
        detail: `page ${page + 1} of ${totalPages}`,
        nextAction: nextStep(flow),
      });
      return v.state;
    },
    {
      validator: ({ page, totalPages, document }) => {
        collecting();
        if (!flow.consent) refuse('record the consent first');
        if (!Number.isInteger(totalPages) || totalPages < 1 || totalPages > ID360_MAX_PAGES)
          refuse(`totalPages must be from 1 to ${ID360_MAX_PAGES}`);
        if (!Number.isInteger(page) || page < 0 || page >= totalPages) refuse('page must be from 0 to totalPages - 1');
        if (flow.totalPages !== null && flow.totalPages !== totalPages)
          refuse(`totalPages was ${flow.totalPages} for the pages already uploaded`);
        if (!document?.sha256) refuse('the document reference is missing');
      },
    },
  );

  setHandler(
    id360UploadSelfieUpdate,
    async ({ selfie }) => {
      await step('selfie', () => steps.id360UploadSelfie({ ...flow.enrollment!, selfie, holdForMs: hold() }));
      flow.selfie = true;
      v.addEvidence(selfie);
      v.progress('awaiting_user', 'selfie uploaded', { nextAction: nextStep(flow) });
      return v.state;
    },
    {
      validator: ({ selfie }) => {
        collecting();
        if (!flow.consent) refuse('record the consent first');
        if (!flow.consent.biometry) refuse('a selfie needs the biometry consent (acceptedBiometry: true)');
        if (!selfie?.sha256) refuse('the selfie reference is missing');
      },
    },
  );

  setHandler(
    id360FinalizeUpdate,
    async () => {
      flow.phase = 'finalizing';
      try {
        await step('finalize', () => steps.id360Finalize({ ...flow.enrollment!, holdForMs: hold() }));
      } catch (err) {
        flow.phase = 'collecting';
        throw err;
      }
      flow.phase = 'processing';
      v.progress('processing', 'enrollment finalized', {
        nextAction: { type: 'wait', reason: 'ID360 is checking the documents' },
      });
      return v.state;
    },
    {
      validator: () => {
        collecting();
        if (flow.busy > 0) refuse('a step is still under way: finalize once it has answered');
        if (!flow.consent) refuse('record the consent first');
        if (flow.totalPages === null || flow.pages.length < flow.totalPages)
          refuse('upload every page of the identity document first');
        if (flow.consent.biometry && !flow.selfie) refuse('the biometry consent was given: upload the selfie first');
      },
    },
  );
}

/** Refuses an action (in a validator): nothing has been recorded, the API answers 409 with the message. */
function refuse(message: string): never {
  throw ApplicationFailure.create({ message, type: ID360_ACTION_FAILURES.refused, nonRetryable: true });
}

/** The failure an action's caller sees: the vendor's refusal (4xx) or its unavailability, never the workflow's. */
function stepFailure(v: Verification, what: string, err: unknown): ApplicationFailure {
  const cause = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : undefined;
  const rejected = cause?.type === 'VendorRequestRejected';
  if (!v.ended) v.note(rejected ? 'step refused by ID360' : 'step failed', `${what}: ${cause?.message ?? 'no answer'}`);
  return ApplicationFailure.create({
    message: cause?.message ?? `ID360 did not answer the ${what}`,
    type: rejected ? ID360_ACTION_FAILURES.rejected : ID360_ACTION_FAILURES.unavailable,
    nonRetryable: true,
    details: cause?.details ? [...cause.details] : [],
  });
}

/** What API mode expects next from our caller. */
function nextStep(flow: Flow): NextAction {
  const deadline = new Date(flow.deadlineAt).toISOString();
  if (!flow.consent) {
    return {
      type: 'action',
      action: 'consent',
      reason: "record the user's acceptance of ID360's terms (and of biometry, for a selfie)",
      deadline,
    };
  }
  if (flow.totalPages === null || flow.pages.length < flow.totalPages) {
    const missing =
      flow.totalPages === null ? null : [...Array(flow.totalPages).keys()].find((p) => !flow.pages.includes(p));
    const reason =
      missing === null || missing === undefined
        ? 'upload the identity document, one request per page'
        : `upload page ${missing + 1} of ${flow.totalPages} of the identity document`;
    return { type: 'action', action: 'upload-document-page', reason, deadline };
  }
  if (flow.consent.biometry && !flow.selfie)
    return { type: 'action', action: 'upload-selfie', reason: 'upload the selfie', deadline };
  return { type: 'action', action: 'finalize', reason: 'every document is in: finalize the enrollment', deadline };
}

function factsOf(r: Id360ReportSummary): Record<string, string | number | boolean | null> {
  const facts: Record<string, string | number | boolean | null> = { reason: r.reason };
  for (const [name, result] of Object.entries(r.checks)) facts[`check.${name}`] = result;
  for (const [name, state] of Object.entries(r.steps)) facts[`step.${name}`] = state;
  return facts;
}

function isFinal(status: Id360Status): boolean {
  return status === 'OK' || status === 'KO' || status === 'FAILED' || status === 'CANCELED' || status === 'DELETED';
}

function holdForMs(flow: Flow): number {
  return Math.max(0, flow.deadlineAt - Date.now()) + HOLD_MARGIN_MS;
}

/** The current non-terminal status (only called while the flow runs). */
function currentStatus(v: Verification): Exclude<VerificationStatus, 'completed' | 'failed' | 'expired' | 'cancelled'> {
  return v.state.status as Exclude<VerificationStatus, 'completed' | 'failed' | 'expired' | 'cancelled'>;
}

const RESTART: NextAction = { type: 'restart', reason: 'start a new verification with a new reference' };
