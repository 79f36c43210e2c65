/**
 * Fourthline French solution (../shared/vendor-docs/fourthline-french-idv-qes.txt): one identity
 * verification case per verification (`fourthlineCase`), and one child workflow per signature
 * attempt (`fourthlineSignature`), on the same task queue.
 *
 * Case:       new -> (identity data + files) pending | invalid_data
 *                 -> (processing) completed (risk score) | inconsistent_data
 * Signature:  new -> pending | kyc_required
 *                 -> (documents, mobile number) user_consent_required | selfie_required | kyc_required | error
 *                 -> (details, approve <= 2 h) confirmation_required | kyc_required | error
 *                 -> (confirm <= 1 h, passcode <= 2 h) signed | pending_verification | invalid_signature | kyc_required | error
 *
 * The doc's two restarts:
 * - "create a new workflow for a signature only" (a window closed, an unrecoverable error,
 *   invalid_signature): a new child attempt on the same case, by itself while the policy
 *   (`maxSignatureAttempts`) allows it and the case is still eligible;
 * - "create a new workflow that includes IDV and QES" (kyc_required, invalid_data,
 *   inconsistent_data): the case ends with that outcome and nextAction says so.
 *
 * Webhooks are nudges: the workflow always reads the status with GET before acting. The human
 * steps are Updates whose validators refuse a wrong state (409) or a closed window (422) before
 * any vendor call. Personal data (identity data, mobile number, selfie, passcode, documents) is
 * only ever an EvidenceRef here.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  executeChild,
  getExternalWorkflowHandle,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type {
  FourthlineActivities,
  FourthlineCaseStatus,
  FourthlineCaseSummary,
  FourthlineSignatureStatus,
  FourthlineSignatureSummary,
} from '../activities/fourthline';
import { FOURTHLINE_CASE_MEMO_KEY, SEARCH_ATTRIBUTES, type EvidenceRef, type NextAction, type VerificationInputBase, type VerificationState } from './shared';
import { Verification } from './verification';
import { ms } from './time';

// ---------------------------------------------------------------------------------------------
// Options, ids, messages
// ---------------------------------------------------------------------------------------------

export interface FourthlineOptions {
  /** `completed`: the signature starts once the case is completed; `pending`: as soon as it is pending. */
  flow: 'completed' | 'pending';
  /** Language of the QTSP legal conditions and of the passcode SMS. */
  language: string;
  /** Signature attempts per case (1 = no automatic signature-only retry). */
  maxSignatureAttempts: number;
  /** The vendor's windows (their real values by default; shorter in tests). */
  approvalWindow: Duration;
  confirmationWindow: Duration;
  passcodeValidity: Duration;
  selfieWindow: Duration;
  /** Fourthline turns an unfinished signature to error this long after the signature flow started. */
  errorAfter: Duration;
  /** How long we wait for the identity data and files. */
  identityDeadline: Duration;
  /** How long the case and the signature may wait on the vendor or on the integrator overall. */
  caseDeadline: Duration;
  /** Reconcile by GET this often when no webhook comes. */
  pollInterval: Duration;
}

export const FOURTHLINE_DEFAULTS = {
  flow: 'completed',
  language: 'fr',
  maxSignatureAttempts: 3,
  approvalWindow: '2 hours',
  confirmationWindow: '1 hour',
  passcodeValidity: '2 hours',
  selfieWindow: '24 hours',
  errorAfter: '24 hours',
  identityDeadline: '7 days',
  caseDeadline: '30 days',
  pollInterval: '15 minutes',
} as const satisfies FourthlineOptions;

export const FOURTHLINE_MAX_RESENDS = 4;

export interface FourthlineCaseInput extends VerificationInputBase {
  options: FourthlineOptions;
}

/** The child workflow of one signature attempt is named after Fourthline's signatureId. */
export function signatureWorkflowId(signatureId: string): string {
  return `fourthline-signature:${signatureId}`;
}
/**
 * patched() id: new cases carry Fourthline's verificationId in the `VerificationProviderReference`
 * search attribute instead of starting the alias workflow below. Once no case started before it is
 * open, deprecatePatch it, and drop the alias workflow and the webhook receiver's fallback.
 */
export const FOURTHLINE_REFERENCE_PATCH = 'fourthline-reference-search-attribute';

/** Cases started before FOURTHLINE_REFERENCE_PATCH: a closed alias workflow whose memo names our verification. */
export function instanceRouteId(verificationId: string): string {
  return `fourthline-instance:${verificationId}`;
}

export interface DocumentToSign {
  name: string;
  ref: EvidenceRef;
}

export type AttemptPhase =
  | 'starting'
  | 'awaiting_eligibility'
  | 'awaiting_documents'
  | 'awaiting_mobile'
  | 'awaiting_selfie'
  | 'awaiting_approval'
  | 'awaiting_confirmation'
  | 'vendor_error'
  | 'pending_verification'
  | 'signed'
  | 'ended';

export type AttemptOutcome = 'signed' | 'kyc_required' | 'expired' | 'error' | 'invalid_signature' | 'cancelled';

export interface AttemptWindows {
  approveBy: string | null;
  confirmBy: string | null;
  passcodeValidUntil: string | null;
  selfieBy: string | null;
  errorAt: string | null;
}

export interface AttemptView {
  attempt: number;
  signatureId: string;
  workflowId: string;
  phase: AttemptPhase;
  providerStatus: FourthlineSignatureStatus | null;
  outcome: AttemptOutcome | null;
  reason: string | null;
  windows: AttemptWindows;
  passcodeResends: number;
  startedAt: string;
  endedAt: string | null;
}

/** Proof of consent: which legal-condition versions and documents were shown / accepted, to which client, when. */
export interface ConsentRecord {
  attempt: number;
  signatureId: string;
  clientId: string;
  event: 'shown' | 'accepted';
  at: string;
  language: string;
  legalConditions: { id: string; version: string; title: string | null }[];
  documents: { documentId: string; name: string }[];
  /** Fourthline's attemptId of the approval (accepted only). */
  approvalAttemptId: string | null;
}

export interface FourthlineCaseView {
  stage: 'creating' | 'identity' | 'processing' | 'signature' | 'ended';
  flow: FourthlineOptions['flow'];
  verificationId: string | null;
  clientId: string | null;
  caseStatus: FourthlineCaseStatus | null;
  riskScore: number | null;
  current: AttemptView | null;
  attempts: AttemptView[];
  consent: ConsentRecord[];
}

export interface AttemptResult {
  outcome: AttemptOutcome;
  reason: string;
  documents: DocumentToSign[] | null;
  mobileRef: EvidenceRef | null;
  evidence: EvidenceRef[];
}

export interface FourthlineSignatureInput {
  parentId: string;
  verificationId: string;
  signatureId: string;
  attempt: number;
  options: FourthlineOptions;
  /** Carried from an earlier attempt: uploaded again by the workflow itself. */
  documents: DocumentToSign[] | null;
  mobileRef: EvidenceRef | null;
}

/** Thin webhook payloads: they only wake the workflow, which then reads the status. */
export const fourthlineCaseWebhookSignal = defineSignal<[{ status: string }]>('fourthlineCaseWebhook');
export const fourthlineSignatureWebhookSignal = defineSignal<[{ status: string }]>('fourthlineSignatureWebhook');
const attemptReportSignal = defineSignal<[{ view: AttemptView; consent?: ConsentRecord }]>('fourthlineAttemptReport');
const stopAttemptSignal = defineSignal<[{ reason: string }]>('fourthlineStopAttempt');

export const fourthlineCaseQuery = defineQuery<FourthlineCaseView>('fourthlineCase');
export const fourthlineAttemptQuery = defineQuery<AttemptView>('fourthlineAttempt');

/** Human steps. Each answers the attempt view (or the details shown). */
export const identityUpdate = defineUpdate<FourthlineCaseView, [{ identityRef: EvidenceRef; files: EvidenceRef[] }]>('fourthlineIdentity');
export const uploadDocumentsUpdate = defineUpdate<AttemptView, [{ documents: DocumentToSign[] }]>('fourthlineUploadDocuments');
export const setMobileNumberUpdate = defineUpdate<AttemptView, [{ mobileRef: EvidenceRef }]>('fourthlineSetMobileNumber');
export const signatureDetailsUpdate = defineUpdate<{ view: AttemptView; shown: ConsentRecord; passcode: { length: number | null; validitySeconds: number | null; resendsLeft: number | null } }, []>(
  'fourthlineSignatureDetails',
);
export const approveUpdate = defineUpdate<AttemptView, [{ legalConditions?: { id: string; version: string }[]; documentIds?: string[] }]>('fourthlineApprove');
export const confirmUpdate = defineUpdate<AttemptView, [{ passcodeRef: EvidenceRef }]>('fourthlineConfirm');
export const resendPasscodeUpdate = defineUpdate<AttemptView, []>('fourthlineResendPasscode');
export const uploadSelfieUpdate = defineUpdate<AttemptView, [{ selfieRef: EvidenceRef }]>('fourthlineUploadSelfie');

/** Failure types the API maps to HTTP: wrong state / busy -> 409, closed window / vendor business rule -> 422. */
export const FOURTHLINE_REFUSALS = {
  wrongState: 'FourthlineWrongState',
  windowClosed: 'FourthlineWindowClosed',
  rejected: 'FourthlineRejected',
} as const;

const refuse = (type: keyof typeof FOURTHLINE_REFUSALS, message: string) =>
  ApplicationFailure.create({ type: FOURTHLINE_REFUSALS[type], message, nonRetryable: true });

// Background calls retry for long; the human steps answer the caller within about a minute.
const fl = proxyActivities<FourthlineActivities>({
  startToCloseTimeout: '2 minutes',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '2 minutes' },
});
const flNow = proxyActivities<FourthlineActivities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '1 minute',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumAttempts: 4 },
});

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
const IDV_AND_QES: NextAction = { type: 'restart', reason: 'create a new verification that includes IDV and QES (a new reference)' };
const SIGNATURE_ONLY: NextAction = { type: 'restart', reason: 'the signature attempts are used up: create a new verification (a new reference)' };

/** QES eligibility (doc + risk score rules): completed with 200-400; the pending flow also new / pending. */
export function fourthlineEligible(c: { status: FourthlineCaseStatus; riskScore: number | null }, flow: FourthlineOptions['flow']): boolean {
  if (c.status === 'completed') return c.riskScore !== null && c.riskScore >= 200 && c.riskScore <= 400;
  return flow === 'pending' && (c.status === 'new' || c.status === 'pending');
}

// ---------------------------------------------------------------------------------------------
// The case
// ---------------------------------------------------------------------------------------------

export async function fourthlineInstanceRoute(_target: string): Promise<void> {
  // Nothing to do: this closed workflow's id and memo are the lookup table (instance id -> verification).
}

export async function fourthlineCase(input: FourthlineCaseInput): Promise<VerificationState> {
  const v = new Verification('fourthline', input.id, input.reference);
  const o = input.options;
  const view: FourthlineCaseView = {
    stage: 'creating',
    flow: o.flow,
    verificationId: null,
    clientId: null,
    caseStatus: null,
    riskScore: null,
    current: null,
    attempts: [],
    consent: [],
  };
  let caseNudged = false;
  let identityBusy = false;
  let child: ChildWorkflowHandle<(input: FourthlineSignatureInput) => Promise<AttemptResult>> | null = null;
  let cddStored = false;

  setHandler(fourthlineCaseQuery, () => view);
  v.memoExtras = () => ({ [FOURTHLINE_CASE_MEMO_KEY]: view }); // issue 9b: the signature/consent routes read it without a worker
  setHandler(fourthlineCaseWebhookSignal, ({ status }) => {
    // Thin and possibly stale or duplicated: only a prompt to GET the case. Ignored once ended.
    if (v.ended) return;
    v.note('case webhook received', `status ${status}`);
    caseNudged = true;
  });
  setHandler(attemptReportSignal, ({ view: a, consent }) => {
    // Reports from a child that is no longer the current attempt (late) are ignored on purpose.
    const known = view.attempts.find((x) => x.attempt === a.attempt);
    if (!known || v.ended) return;
    Object.assign(known, a);
    if (consent) {
      view.consent.push(consent);
      v.audit(`consent ${consent.event}`, null, { ...consent });
      v.note(`consent ${consent.event}`, `attempt ${consent.attempt}: ${consent.legalConditions.map((l) => `${l.id}@${l.version}`).join(', ')}`);
    }
    if (view.current?.attempt === a.attempt) showAttempt(v, a);
  });
  setHandler(
    identityUpdate,
    async ({ identityRef, files }) => {
      identityBusy = true;
      try {
        const c = await flNow.fourthlineUploadIdentity({ verificationId: view.verificationId!, identityRef, files });
        v.addEvidence(identityRef);
        for (const f of files) v.addEvidence(f);
        applyCase(c, 'identity uploaded');
        return view;
      } catch (err) {
        throw asRefusal(err);
      } finally {
        identityBusy = false;
      }
    },
    {
      validator: (_req: unknown) => {
        if (view.stage !== 'identity' || view.caseStatus !== 'new') throw refuse('wrongState', `identity data is uploaded once, while the case is new (stage ${view.stage})`);
        if (identityBusy) throw refuse('wrongState', 'an identity upload is already in progress');
      },
    },
  );

  /** (A function, so that TypeScript does not narrow the status across awaits.) */
  function caseIs(status: FourthlineCaseStatus): boolean {
    return view.caseStatus === status;
  }

  function applyCase(c: FourthlineCaseSummary, event: string): void {
    const changed = c.status !== view.caseStatus || c.riskScore !== view.riskScore;
    view.caseStatus = c.status;
    view.riskScore = c.riskScore;
    v.setFacts({ caseStatus: c.status, riskScore: c.riskScore, caseStatusCode: c.statusCode });
    if (changed) v.note(event, `case ${c.status}${c.riskScore !== null ? ` (risk score ${c.riskScore})` : ''}`);
  }

  async function storeCdd(): Promise<void> {
    if (cddStored || view.caseStatus !== 'completed') return;
    const ref = await fl.fourthlineDownloadCddReport({ verificationId: view.verificationId! });
    cddStored = true;
    v.addEvidence(ref);
    v.note('evidence stored', `CDD report ${ref.sha256.slice(0, 12)} (${ref.size} bytes)`);
  }

  /** Waits for a webhook or the poll interval, then GETs the case. False when `until` ran out. */
  async function readCase(until: number): Promise<boolean> {
    const left = until - Date.now();
    if (left <= 0) return false;
    const woken = await condition(() => caseNudged || v.cancelRequested !== null || v.ended, Math.min(ms(o.pollInterval), left));
    if (v.cancelRequested !== null || v.ended) return true;
    caseNudged = false;
    applyCase(await fl.fourthlineGetCase({ verificationId: view.verificationId! }), woken ? 'case read after webhook' : 'case read by polling');
    return true;
  }

  /** Ends the case for a case status that needs a new IDV + QES workflow. True when it did. */
  function endOnCaseFailure(): boolean {
    if (view.caseStatus === 'invalid_data' || view.caseStatus === 'inconsistent_data') {
      v.finish('failed', 'rejected', `Fourthline found ${view.caseStatus === 'invalid_data' ? 'invalid or missing' : 'inconsistent'} data (case ${view.caseStatus})`, {
        providerStatus: view.caseStatus,
        nextAction: IDV_AND_QES,
      });
      return true;
    }
    if (view.caseStatus === 'completed' && !fourthlineEligible({ status: 'completed', riskScore: view.riskScore }, o.flow)) {
      v.finish('failed', 'rejected', `not eligible for a qualified signature: risk score ${view.riskScore} (kyc_required)`, {
        providerStatus: 'kyc_required',
        nextAction: IDV_AND_QES,
      });
      return true;
    }
    return false;
  }

  async function run(): Promise<void> {
    const deadline = Date.now() + ms(o.caseDeadline);
    const created = await fl.fourthlineCreateWorkflow({
      workflowName: o.flow === 'pending' ? 'french-idv-qes-pending' : 'french-idv-qes',
      clientReference: input.reference,
    });
    view.verificationId = created.workflowId;
    view.clientId = created.clientId;
    view.caseStatus = 'new';
    v.setProviderReference(created.workflowId);
    // issue 9b: case webhooks find the case by this search attribute (client/webhooks/fourthline.ts);
    // cases started before it kept the closed alias workflow.
    if (patched(FOURTHLINE_REFERENCE_PATCH)) upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.providerReference, value: created.workflowId }]);
    else {
      await executeChild(fourthlineInstanceRoute, {
        workflowId: instanceRouteId(created.workflowId),
        args: [input.id],
        memo: { target: input.id },
        parentClosePolicy: ParentClosePolicy.ABANDON,
      });
    }

    view.stage = 'identity';
    v.progress('awaiting_user', 'case created', {
      providerStatus: 'new',
      nextAction: { type: 'action', action: 'identity', reason: 'upload the identity data and the identity files', deadline: iso(Date.now() + ms(o.identityDeadline))! },
    });
    const uploaded = await condition(() => (view.caseStatus !== 'new' && !identityBusy) || v.cancelRequested !== null, o.identityDeadline);
    if (v.cancelRequested !== null) return;
    if (!uploaded) {
      v.finish('expired', 'abandoned', `no identity data and files within ${String(o.identityDeadline)}`, { nextAction: IDV_AND_QES });
      return;
    }
    if (endOnCaseFailure()) return;

    view.stage = 'processing';
    applyCase(await fl.fourthlineStartProcessing({ verificationId: view.verificationId }), 'case processing started');
    v.progress('processing', 'waiting for the case', { providerStatus: view.caseStatus, nextAction: { type: 'wait', reason: 'Fourthline is processing the identity case' } });

    if (o.flow === 'completed') {
      while (caseIs('pending') && v.cancelRequested === null) {
        if (!(await readCase(deadline))) {
          v.finish('expired', 'expired', `the case was not processed within ${String(o.caseDeadline)}`);
          return;
        }
      }
      if (v.cancelRequested !== null || endOnCaseFailure()) return;
      await storeCdd();
    }
    view.stage = 'signature';
    await signatureAttempts(deadline);
  }

  /** The pending flow: the case goes on while the client signs; its end may end the verification. */
  async function watchCase(deadline: number): Promise<void> {
    while (!v.ended && view.caseStatus === 'pending') {
      if (!(await readCase(deadline))) return;
    }
    if (v.ended) return;
    await storeCdd();
    // (The attempts loop sees inconsistent_data too and stops the running attempt.)
  }

  async function signatureAttempts(deadline: number): Promise<void> {
    if (o.flow === 'pending') void watchCase(deadline).catch(() => undefined);
    let documents: DocumentToSign[] | null = null;
    let mobileRef: EvidenceRef | null = null;
    for (let n = 1; ; n++) {
      let signatureId = view.verificationId!;
      if (n > 1) {
        signatureId = (await fl.fourthlineCreateWorkflow({ workflowName: 'french-qes', clientReference: input.reference, verificationId: view.verificationId! })).workflowId;
      }
      const a = newAttemptView(n, signatureId, signatureWorkflowId(signatureId));
      view.attempts.push(a);
      view.current = a;
      v.setFacts({ signatureAttempt: n });
      v.note('signature attempt started', `attempt ${n}`);
      child = await startChild(fourthlineSignature, {
        workflowId: a.workflowId,
        args: [{ parentId: input.id, verificationId: view.verificationId!, signatureId, attempt: n, options: o, documents, mobileRef }],
      });
      const result: Promise<AttemptResult> = child.result();
      let done = false;
      void result.then(() => (done = true), () => (done = true));
      // Cancellation and the case ending badly (pending flow) stop the attempt.
      await condition(() => done || v.cancelRequested !== null || v.ended || view.caseStatus === 'inconsistent_data');
      if (!done) await child.signal(stopAttemptSignal, { reason: v.cancelRequested ?? 'the case ended' }).catch(() => undefined);
      const r: AttemptResult = await result;
      child = null;
      Object.assign(a, { outcome: r.outcome, reason: r.reason, phase: 'ended', endedAt: a.endedAt ?? new Date().toISOString() });
      for (const e of r.evidence) v.addEvidence(e);
      v.note(`signature attempt ${n} ended`, `${r.outcome}: ${r.reason}`);
      documents = r.documents ?? documents;
      mobileRef = r.mobileRef ?? mobileRef;
      if (v.ended || v.cancelRequested !== null) return;
      if (endOnCaseFailure()) return;

      switch (r.outcome) {
        case 'signed':
          await storeCdd();
          v.finish('completed', 'approved', `the documents were signed (attempt ${n})`, { providerStatus: 'signed' });
          return;
        case 'kyc_required':
          v.finish('failed', 'rejected', `the client did not pass the eligibility checks (kyc_required): ${r.reason}`, { providerStatus: 'kyc_required', nextAction: IDV_AND_QES });
          return;
        case 'cancelled':
          return;
        case 'expired':
        case 'error':
        case 'invalid_signature': {
          const finish = () =>
            r.outcome === 'expired'
              ? v.finish('expired', 'expired', `signature attempt ${n}: ${r.reason}`, { providerStatus: r.outcome, nextAction: SIGNATURE_ONLY })
              : v.finish('failed', r.outcome === 'error' ? 'error' : 'rejected', `signature attempt ${n}: ${r.reason}`, { providerStatus: r.outcome, nextAction: SIGNATURE_ONLY });
          if (n >= o.maxSignatureAttempts) return void finish();
          // A new signature-only workflow, if the case is still eligible (read it now: it may have moved).
          applyCase(await fl.fourthlineGetCase({ verificationId: view.verificationId! }), 'case read before a new attempt');
          if (endOnCaseFailure()) return;
          if (!fourthlineEligible({ status: view.caseStatus!, riskScore: view.riskScore }, o.flow)) return void finish();
          if (Date.now() >= deadline) return void finish();
          continue;
        }
      }
    }
  }

  try {
    await run();
  } catch (err) {
    v.endOnVendorFailure(err, IDV_AND_QES);
  }
  if (!v.ended && v.cancelRequested !== null) v.finish('cancelled', null, v.cancelRequested);
  view.stage = 'ended';
  return v.state;
}

/** The parent's status and nextAction while an attempt runs. */
function showAttempt(v: Verification, a: AttemptView): void {
  const w = a.windows;
  const act = (action: string, reason: string, deadline: string | null): NextAction => ({ type: 'action', action, reason, ...(deadline ? { deadline } : {}) });
  const ps = a.providerStatus;
  const event = `signature ${ps ?? a.phase}`;
  switch (a.phase) {
    case 'awaiting_documents':
      return v.progress('awaiting_user', event, { providerStatus: ps, nextAction: act('documents', 'upload the documents to sign', null) });
    case 'awaiting_mobile':
      return v.progress('awaiting_user', event, { providerStatus: ps, nextAction: act('mobile-number', "set the client's mobile number", null) });
    case 'awaiting_selfie':
      return v.progress('awaiting_user', event, { providerStatus: ps, nextAction: act('selfie', 'upload a selfie of the client', w.selfieBy) });
    case 'awaiting_approval':
      return v.progress('awaiting_user', event, {
        providerStatus: ps,
        nextAction: act('approve', 'show the signature details (documents and legal conditions), then approve', w.approveBy),
      });
    case 'awaiting_confirmation':
      return v.progress('awaiting_user', event, { providerStatus: ps, nextAction: act('confirm', 'confirm with the passcode sent by SMS', w.confirmBy) });
    case 'vendor_error':
      return v.progress('processing', event, { providerStatus: ps, nextAction: { type: 'wait', reason: 'Fourthline reported an error; waiting for it to recover' } });
    case 'pending_verification':
      return v.progress('processing', event, { providerStatus: ps, nextAction: { type: 'wait', reason: 'signed; Fourthline is completing the identity case' } });
    case 'awaiting_eligibility':
    case 'starting':
    case 'signed':
      return v.progress('processing', event, { providerStatus: ps, nextAction: { type: 'wait', reason: 'waiting for Fourthline' } });
    case 'ended':
      return;
  }
}

/** A signature attempt as the case and the attempt itself first see it: started, no window open yet. */
function newAttemptView(attempt: number, signatureId: string, workflowId: string): AttemptView {
  return {
    attempt,
    signatureId,
    workflowId,
    phase: 'starting',
    providerStatus: null,
    outcome: null,
    reason: null,
    windows: { approveBy: null, confirmBy: null, passcodeValidUntil: null, selfieBy: null, errorAt: null },
    passcodeResends: 0,
    startedAt: new Date().toISOString(),
    endedAt: null,
  };
}

/** A vendor refusal inside a human step, as a clear update failure (422 + Fourthline's code). */
function asRefusal(err: unknown): unknown {
  if (!(err instanceof ActivityFailure) || !(err.cause instanceof ApplicationFailure)) return err;
  const d = (err.cause.details?.[0] ?? {}) as { httpStatus?: number; vendorCode?: string | null };
  if (d.httpStatus === 422 || d.httpStatus === 409 || d.httpStatus === 400) {
    return ApplicationFailure.create({
      type: FOURTHLINE_REFUSALS.rejected,
      message: `Fourthline refused the request (${d.vendorCode ?? `HTTP ${d.httpStatus}`})`,
      nonRetryable: true,
      details: [{ vendorCode: d.vendorCode ?? null, httpStatus: d.httpStatus }],
    });
  }
  return ApplicationFailure.create({ type: FOURTHLINE_REFUSALS.rejected, message: err.cause.message, nonRetryable: true, details: [{ vendorCode: null, httpStatus: 502 }] });
}

function vendorCodeOf(err: unknown): string | null {
  return err instanceof ApplicationFailure ? ((err.details?.[0] as { vendorCode?: string | null } | undefined)?.vendorCode ?? null) : null;
}

// ---------------------------------------------------------------------------------------------
// One signature attempt
// ---------------------------------------------------------------------------------------------

export async function fourthlineSignature(input: FourthlineSignatureInput): Promise<AttemptResult> {
  const o = input.options;
  const parent = getExternalWorkflowHandle(input.parentId);
  const a = newAttemptView(input.attempt, input.signatureId, workflowInfo().workflowId);
  let documents: DocumentToSign[] | null = null;
  let mobileRef: EvidenceRef | null = null;
  const evidence: EvidenceRef[] = [];
  let shown: ConsentRecord | null = null;
  // The clocks, in workflow time (ms); null until the status that starts them is seen.
  let consentAt: number | null = null;
  let confirmationAt: number | null = null;
  let passcodeSentAt: number | null = null;
  let selfieAt: number | null = null;
  let flowStartedAt: number | null = null;
  let nudged = false;
  let stop: string | null = null;
  /** Set when Fourthline itself answered that a window has expired (its 422). */
  let vendorExpired: string | null = null;
  let busy = false;
  let version = 0;

  // The parent may have closed (it then no longer listens): a failed report is of no consequence.
  const report = (consent?: ConsentRecord) => parent.signal(attemptReportSignal, { view: a, ...(consent ? { consent } : {}) }).catch(() => undefined);
  const ended = () => a.outcome !== null;

  function windows(): void {
    a.windows = {
      approveBy: iso(consentAt === null ? null : consentAt + ms(o.approvalWindow)),
      confirmBy: iso(confirmationAt === null ? null : confirmationAt + ms(o.confirmationWindow)),
      passcodeValidUntil: iso(passcodeSentAt === null ? null : passcodeSentAt + ms(o.passcodeValidity)),
      selfieBy: iso(selfieAt === null ? null : selfieAt + ms(o.selfieWindow)),
      errorAt: iso(flowStartedAt === null ? null : flowStartedAt + ms(o.errorAfter)),
    };
  }

  function end(outcome: AttemptOutcome, reason: string): void {
    if (ended()) return;
    a.outcome = outcome;
    a.reason = reason;
    a.phase = 'ended';
    a.endedAt = new Date().toISOString();
    version++;
  }

  /** The vendor's status -> the attempt's phase. Starts the clocks the doc attaches to a status. */
  function apply(s: FourthlineSignatureSummary): void {
    if (ended()) return;
    const now = Date.now();
    a.providerStatus = s.status;
    switch (s.status) {
      case 'new':
        a.phase = 'awaiting_eligibility';
        break;
      case 'pending':
        a.phase = documents ? 'awaiting_mobile' : 'awaiting_documents';
        break;
      case 'user_consent_required':
        consentAt ??= now;
        flowStartedAt ??= now;
        a.phase = 'awaiting_approval';
        break;
      case 'selfie_required':
        selfieAt ??= now;
        flowStartedAt ??= now;
        a.phase = 'awaiting_selfie';
        break;
      case 'confirmation_required':
        confirmationAt ??= now;
        passcodeSentAt ??= now;
        a.phase = 'awaiting_confirmation';
        break;
      case 'pending_verification':
        a.phase = 'pending_verification';
        break;
      case 'error':
        flowStartedAt ??= now;
        a.phase = 'vendor_error';
        break;
      case 'signed':
        a.phase = 'signed';
        break;
      case 'kyc_required':
        end('kyc_required', `Fourthline answered kyc_required${s.statusCode ? ` (${s.statusCode})` : ''}`);
        break;
      case 'invalid_signature':
        end('invalid_signature', `the certificate details did not match the completed case${s.statusCode ? ` (${s.statusCode})` : ''}`);
        break;
    }
    windows();
    version++;
    void report();
  }

  const phaseIs = (...phases: AttemptPhase[]) => {
    if (ended()) throw refuse('wrongState', `this signature attempt has ended (${a.outcome})`);
    if (busy) throw refuse('wrongState', 'another action on this signature is in progress');
    if (!phases.includes(a.phase)) throw refuse('wrongState', `not possible while the signature is ${a.providerStatus ?? a.phase} (${a.phase})`);
  };
  const within = (until: string | null, what: string) => {
    if (until !== null && Date.now() >= Date.parse(until)) throw refuse('windowClosed', `${what} has closed (at ${until})`);
  };
  /** Runs a human step: one at a time; a vendor refusal becomes a clear failure of the update. */
  async function step<T>(fn: () => Promise<T>): Promise<T> {
    busy = true;
    try {
      return await fn();
    } catch (err) {
      const refusal = asRefusal(err);
      const code = vendorCodeOf(refusal);
      if (code === 'APPROVAL_EXPIRED' || code === 'CONFIRMATION_EXPIRED' || code === 'PASSCODE_EXPIRED') {
        vendorExpired = `Fourthline answered ${code}: the window has expired at the vendor`;
      }
      throw refusal;
    } finally {
      busy = false;
      version++;
    }
  }

  setHandler(fourthlineAttemptQuery, () => a);
  setHandler(fourthlineSignatureWebhookSignal, () => {
    // A nudge only (thin, maybe stale or duplicated): the loop reads the status. Ignored once ended.
    if (!ended()) nudged = true;
  });
  setHandler(stopAttemptSignal, ({ reason }) => {
    stop ??= reason;
  });

  setHandler(
    uploadDocumentsUpdate,
    (req) =>
      step(async () => {
        await flNow.fourthlineUploadDocuments({ signatureId: input.signatureId, documents: req.documents });
        documents = req.documents;
        for (const d of req.documents) evidence.push(d.ref);
        apply({ status: 'pending', statusCode: null });
        return a;
      }),
    { validator: (_req: unknown) => phaseIs('awaiting_documents') },
  );
  setHandler(
    setMobileNumberUpdate,
    (req) =>
      step(async () => {
        const s = await flNow.fourthlineUploadMobileNumber({ signatureId: input.signatureId, mobileRef: req.mobileRef });
        mobileRef = req.mobileRef;
        apply(s);
        return a;
      }),
    { validator: (_req: unknown) => phaseIs('awaiting_mobile') },
  );
  setHandler(
    signatureDetailsUpdate,
    () =>
      step(async () => {
        const d = await flNow.fourthlineGetSignatureDetails({ signatureId: input.signatureId, language: o.language });
        shown = {
          attempt: input.attempt,
          signatureId: input.signatureId,
          clientId: d.clientId,
          event: 'shown',
          at: new Date().toISOString(),
          language: o.language,
          legalConditions: d.legalConditions.map((l) => ({ id: l.id, version: l.version, title: l.title })),
          documents: d.documents,
          approvalAttemptId: null,
        };
        await report(shown);
        return { view: a, shown, passcode: { length: d.passcode.length, validitySeconds: d.passcode.validitySeconds, resendsLeft: d.passcode.resendsLeft } };
      }),
    { validator: () => phaseIs('awaiting_approval') },
  );
  setHandler(
    approveUpdate,
    (req) =>
      step(async () => {
        const s = shown!;
        const legalConditions = req.legalConditions ?? s.legalConditions.map((l) => ({ id: l.id, version: l.version }));
        const documentIds = req.documentIds ?? s.documents.map((d) => d.documentId);
        const r = await flNow.fourthlineApprove({ signatureId: input.signatureId, documentIds, legalConditions, language: o.language });
        const accepted: ConsentRecord = {
          ...s,
          event: 'accepted',
          at: new Date().toISOString(),
          legalConditions: legalConditions.map((l) => ({ ...l, title: s.legalConditions.find((x) => x.id === l.id)?.title ?? null })),
          documents: s.documents.filter((d) => documentIds.includes(d.documentId)),
          approvalAttemptId: r.attemptId,
        };
        await report(accepted);
        if (r.status === 'confirmation_required') {
          confirmationAt = Date.now();
          passcodeSentAt = Date.now();
        }
        apply(r);
        return a;
      }),
    {
      validator: (req) => {
        phaseIs('awaiting_approval');
        within(a.windows.approveBy, `the ${String(o.approvalWindow)} approval window`);
        if (!shown) throw refuse('wrongState', 'get the signature details (and show them to the client) before approving');
        for (const l of req.legalConditions ?? []) {
          if (!shown.legalConditions.some((x) => x.id === l.id && x.version === l.version)) {
            throw refuse('wrongState', `legal condition ${l.id}@${l.version} was not the version shown to the client`);
          }
        }
      },
    },
  );
  setHandler(
    confirmUpdate,
    (req) =>
      step(async () => {
        const r = await flNow.fourthlineConfirm({ signatureId: input.signatureId, passcodeRef: req.passcodeRef });
        apply(r);
        return a;
      }),
    {
      validator: (_req: unknown) => {
        phaseIs('awaiting_confirmation');
        within(a.windows.confirmBy, `the ${String(o.confirmationWindow)} confirmation window`);
        within(a.windows.passcodeValidUntil, `the passcode's ${String(o.passcodeValidity)} validity`);
      },
    },
  );
  setHandler(
    resendPasscodeUpdate,
    () =>
      step(async () => {
        await flNow.fourthlineResendPasscode({ signatureId: input.signatureId });
        a.passcodeResends++;
        passcodeSentAt = Date.now();
        windows();
        void report();
        return a;
      }),
    {
      validator: () => {
        phaseIs('awaiting_confirmation');
        if (a.passcodeResends >= FOURTHLINE_MAX_RESENDS) throw refuse('windowClosed', `the passcode can be resent at most ${FOURTHLINE_MAX_RESENDS} times`);
        within(a.windows.confirmBy, `the ${String(o.confirmationWindow)} confirmation window`);
      },
    },
  );
  setHandler(
    uploadSelfieUpdate,
    (req) =>
      step(async () => {
        const s = await flNow.fourthlineUploadSelfie({ signatureId: input.signatureId, selfieRef: req.selfieRef });
        evidence.push(req.selfieRef);
        apply(s);
        return a;
      }),
    {
      validator: (_req: unknown) => {
        phaseIs('awaiting_selfie');
        within(a.windows.selfieBy, `the ${String(o.selfieWindow)} selfie window`);
      },
    },
  );

  /** When the current phase's window closes, and how the attempt then ends. */
  function nextDeadline(): { at: number; outcome: AttemptOutcome; reason: string } | null {
    const errorAt = flowStartedAt === null ? null : flowStartedAt + ms(o.errorAfter);
    const errorEnd = errorAt === null ? null : { at: errorAt, outcome: 'error' as const, reason: `the signature was not finished ${String(o.errorAfter)} after it started: Fourthline turns it to error` };
    const first = (...ds: ({ at: number; outcome: AttemptOutcome; reason: string } | null)[]) =>
      ds.filter((d): d is NonNullable<typeof d> => d !== null).sort((x, y) => x.at - y.at)[0] ?? null;
    switch (a.phase) {
      case 'awaiting_approval':
        return first({ at: consentAt! + ms(o.approvalWindow), outcome: 'expired', reason: `approval window closed: not approved within ${String(o.approvalWindow)} of user_consent_required` }, errorEnd);
      case 'awaiting_confirmation':
        return first(
          { at: confirmationAt! + ms(o.confirmationWindow), outcome: 'expired', reason: `confirmation window closed: not confirmed within ${String(o.confirmationWindow)} of confirmation_required` },
          { at: passcodeSentAt! + ms(o.passcodeValidity), outcome: 'expired', reason: `the passcode expired: not entered within ${String(o.passcodeValidity)}` },
          errorEnd,
        );
      case 'awaiting_selfie':
        return first({ at: selfieAt! + ms(o.selfieWindow), outcome: 'error', reason: `no selfie within ${String(o.selfieWindow)}: Fourthline turns the signature to error` }, errorEnd);
      case 'vendor_error':
        // A recoverable error returns to the previous status by itself (doc); one still there at
        // the 24 h mark is not recoverable.
        return errorEnd;
      default:
        return null;
    }
  }

  /**
   * Reads the status (after a webhook, or by polling) and applies it, unless a human step applied a
   * newer answer while this read was under way: then the read is stale, and we read again.
   */
  async function refresh(): Promise<void> {
    const before = version;
    const s = await fl.fourthlineGetSignatureStatus({ signatureId: input.signatureId });
    if (version !== before || busy) {
      nudged = true;
      return;
    }
    apply(s);
  }

  async function run(): Promise<void> {
    await refresh();
    while (!ended()) {
      if (busy) {
        // A human step is under way: its answer decides; no window closes under its feet.
        await condition(() => !busy);
        continue;
      }
      if (stop !== null) return end('cancelled', stop);
      if (vendorExpired !== null) return end('expired', vendorExpired);
      if (a.phase === 'awaiting_documents' && input.documents && !documents) {
        await fl.fourthlineUploadDocuments({ signatureId: input.signatureId, documents: input.documents });
        documents = input.documents;
        for (const d of input.documents) evidence.push(d.ref);
        apply({ status: 'pending', statusCode: null });
        continue;
      }
      if (a.phase === 'awaiting_mobile' && input.mobileRef && !mobileRef) {
        mobileRef = input.mobileRef;
        apply(await fl.fourthlineUploadMobileNumber({ signatureId: input.signatureId, mobileRef: input.mobileRef }));
        continue;
      }
      if (a.phase === 'signed') {
        const ids = shown?.documents.map((d) => d.documentId) ?? (await fl.fourthlineGetSignatureDetails({ signatureId: input.signatureId, language: o.language })).documents.map((d) => d.documentId);
        const signed = await fl.fourthlineDownloadSigned({ signatureId: input.signatureId, documentIds: ids });
        evidence.push(...signed.documents, ...(signed.contract ? [signed.contract] : []));
        return end('signed', `signed${signed.contract ? '; InfoCert contract stored' : ''}`);
      }
      const deadline = nextDeadline();
      const now = Date.now();
      if (deadline && now >= deadline.at) return end(deadline.outcome, deadline.reason);
      const seen = version;
      const wait = Math.min(ms(o.pollInterval), deadline ? deadline.at - now : Infinity);
      const woken = await condition(() => nudged || stop !== null || vendorExpired !== null || busy || version !== seen, wait);
      if (!woken && deadline && Date.now() >= deadline.at) continue; // the window check above ends it
      if (stop !== null || vendorExpired !== null || busy || version !== seen) continue;
      nudged = false;
      await refresh();
    }
  }

  try {
    await run();
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    const cause = err.cause instanceof ApplicationFailure ? err.cause : undefined;
    end('error', cause?.message ?? err.message);
  }
  // Let a human step that is still running finish before the attempt closes.
  await condition(() => !busy);
  await report();
  return { outcome: a.outcome!, reason: a.reason!, documents, mobileRef, evidence };
}
