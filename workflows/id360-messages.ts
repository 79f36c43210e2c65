/**
 * ID360 enrollment's messages and plain data: the workflow's input, the callback signal, the actions of
 * API mode (Updates) and the flow state the workflow carries across continue-as-new. Shared by the
 * workflow's modules (id360*.ts) and the API.
 */
import { defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { Id360Applicant, Id360DataName, Id360EnrollmentRef, Id360Status } from '../activities/id360';
import type { EvidenceRef, VerificationInputBase, VerificationState } from './shared';

export interface Id360Input extends VerificationInputBase {
  /** Informational fields ID360 stores with the enrollment (it checks none of them). */
  applicant: Id360Applicant;
  /** Expected values ID360 compares with the identity document (locked once sent). */
  compare: Partial<Record<Id360DataName, string>>;
  options: Id360Options;
  /** Set by continue-as-new only: the verification so far and the flow (absolute deadline, enrollment, verdict seen). */
  carried?: { state: VerificationState; flow: Id360Flow; outageSince: number | null };
  /** Test-only: continue as new after this many polls (default POLLS_PER_RUN, run-length.ts). */
  pollsPerRun?: number;
}

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

export type Id360Phase = 'opening' | 'collecting' | 'finalizing' | 'processing' | 'with-user';

/** Plain data (it lives in workflow state): where the flow is, and what the caller has sent so far. */
export interface Id360Flow {
  phase: Id360Phase;
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
