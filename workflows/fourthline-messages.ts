/**
 * Fourthline: what the case workflow, the signature-attempt workflow and the API share: the options
 * and their defaults, the workflow ids, the views the queries answer, and the messages (webhook
 * signals, human-step Updates, refusal types). No workflow logic here.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { FourthlineCaseStatus, FourthlineSignatureStatus } from '../activities/fourthline';
import type { EvidenceRef, VerificationInputBase, VerificationState } from './shared';

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
  /** The whole verification's deadline: every phase of the case and of its signature attempts ends by then. */
  caseDeadline: Duration;
  /** Reconcile by GET this often when no webhook comes. */
  pollInterval: Duration;
}

/** Who this workflow is for the shared tracker (its Web UI summaries) and for config/vendors/fourthline.ts. */
export const FOURTHLINE_VENDOR = {
  name: 'fourthline',
  label: 'Fourthline identity case and qualified signature',
} as const;

/** Memo key of the case view (signature attempts, consent), published next to the state. */
export const FOURTHLINE_CASE_MEMO_KEY = 'fourthlineCase';

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

/** What a case run carries into the next one (continue-as-new): plain JSON, absolute times in ms. */
export interface FourthlineCaseCarry {
  state: VerificationState;
  view: FourthlineCaseView;
  deadlineAt: number;
  cddStored: boolean;
  outageSince: number | null;
  /** A case webhook came in the run that continued as new and was not read yet. */
  nudged?: boolean;
}

export interface FourthlineCaseInput extends VerificationInputBase {
  options: FourthlineOptions;
  /** Set by continue-as-new only. */
  carried?: FourthlineCaseCarry;
  /** Test-only: continue as new after this many polls (default POLLS_PER_RUN, run-length.ts). */
  pollsPerRun?: number;
}

/** The child workflow of one signature attempt is named after Fourthline's signatureId. */
export function signatureWorkflowId(signatureId: string): string {
  return `fourthline-signature:${signatureId}`;
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
  /** The case deadline (epoch ms): the attempt ends `expired` then, whatever its phase. */
  caseDeadlineAt?: number;
}

/** Thin webhook payloads: they only wake the workflow, which then reads the status. */
export const fourthlineCaseWebhookSignal = defineSignal<[{ status: string }]>('fourthlineCaseWebhook');
export const fourthlineSignatureWebhookSignal = defineSignal<[{ status: string }]>('fourthlineSignatureWebhook');
/** Child -> case: the attempt's view changed (sent on change only), with a consent record when one was made. */
export const attemptReportSignal =
  defineSignal<[{ view: AttemptView; consent?: ConsentRecord; unreachableSince?: string | null }]>(
    'fourthlineAttemptReport',
  );
/** Case -> child: stop now (cancel, case deadline, case ended). */
export const stopAttemptSignal =
  defineSignal<[{ reason: string; outcome?: 'cancelled' | 'expired' }]>('fourthlineStopAttempt');

export const fourthlineCaseQuery = defineQuery<FourthlineCaseView>('fourthlineCase');
export const fourthlineAttemptQuery = defineQuery<AttemptView>('fourthlineAttempt');

/** Human steps. Each answers the attempt view (or the details shown). */
export const identityUpdate = defineUpdate<FourthlineCaseView, [{ identityRef: EvidenceRef; files: EvidenceRef[] }]>(
  'fourthlineIdentity',
);
export const uploadDocumentsUpdate = defineUpdate<AttemptView, [{ documents: DocumentToSign[] }]>(
  'fourthlineUploadDocuments',
);
export const setMobileNumberUpdate = defineUpdate<AttemptView, [{ mobileRef: EvidenceRef }]>(
  'fourthlineSetMobileNumber',
);
export const signatureDetailsUpdate = defineUpdate<
  {
    view: AttemptView;
    shown: ConsentRecord;
    passcode: { length: number | null; validitySeconds: number | null; resendsLeft: number | null };
  },
  []
>('fourthlineSignatureDetails');
export const approveUpdate = defineUpdate<
  AttemptView,
  [{ legalConditions?: { id: string; version: string }[]; documentIds?: string[] }]
>('fourthlineApprove');
export const confirmUpdate = defineUpdate<AttemptView, [{ passcodeRef: EvidenceRef }]>('fourthlineConfirm');
export const resendPasscodeUpdate = defineUpdate<AttemptView, []>('fourthlineResendPasscode');
export const uploadSelfieUpdate = defineUpdate<AttemptView, [{ selfieRef: EvidenceRef }]>('fourthlineUploadSelfie');

/** Failure types the API maps to HTTP: wrong state / busy -> 409, closed window / vendor business rule -> 422. */
export const FOURTHLINE_REFUSALS = {
  wrongState: 'FourthlineWrongState',
  windowClosed: 'FourthlineWindowClosed',
  rejected: 'FourthlineRejected',
  /** Refused for a moment only (the API sends the Update again): see fourthline-case.ts identitySettledAt. */
  tryAgain: 'FourthlineTryAgain',
} as const;

/** QES eligibility (doc + risk score rules): completed with 200-400; the pending flow also new / pending. */
export function fourthlineEligible(
  c: { status: FourthlineCaseStatus; riskScore: number | null },
  flow: FourthlineOptions['flow'],
): boolean {
  if (c.status === 'completed') return c.riskScore !== null && c.riskScore >= 200 && c.riskScore <= 400;
  return flow === 'pending' && (c.status === 'new' || c.status === 'pending');
}

/** A signature attempt as the case and the attempt itself first see it: started, no window open yet. */
export function newAttemptView(attempt: number, signatureId: string, workflowId: string): AttemptView {
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

/** The signature attempt whose child runs, until the case has recorded how it ended. */
export interface RunningAttempt {
  n: number;
  view: AttemptView;
  result: AttemptResult | null;
  failure: Error | null;
}
