/**
 * What every vendor workflow and the API share: the normalized verification state, the workflow ID
 * scheme, the search attributes and the messages common to all flows.
 *
 * Imported by workflow code, so it must stay deterministic: no Node APIs, no I/O.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export type Provider = 'finwave' | 'fourthline' | 'authenteq' | 'namirial' | 'id360';

/** How operators read the vendor's name (Web UI summaries). */
export const PROVIDER_LABELS: Record<Provider, string> = {
  finwave: 'Finwave onboarding',
  fourthline: 'Fourthline identity case and qualified signature',
  id360: 'ID360 enrollment',
  authenteq: 'Authenteq identity verification',
  namirial: 'Namirial VerifID enrollment',
};

/** The lifecycle every vendor flow is mapped onto. */
export type VerificationStatus =
  | 'created'
  | 'awaiting_user'
  | 'processing'
  | 'completed'
  | 'failed'
  | 'expired'
  | 'cancelled';

export type VerificationOutcome = 'approved' | 'rejected' | 'abandoned' | 'expired' | 'error';

export const TERMINAL_STATUSES: readonly VerificationStatus[] = ['completed', 'failed', 'expired', 'cancelled'];

/** What the integrator's backend must do now. */
export type NextAction =
  | { type: 'redirect'; url: string }
  | { type: 'wait'; reason: string }
  | { type: 'restart'; reason: string }
  /** A step the integrator's backend performs through `POST /v1/verifications/:id/actions/<action>`, before `deadline`. */
  | { type: 'action'; action: string; reason: string; deadline?: string }
  | { type: 'none' };

export interface TimelineEntry {
  at: string;
  event: string;
  status: VerificationStatus;
  providerStatus: string | null;
  detail?: string;
}

/** A binary artifact kept in the evidence store; workflows carry only this reference. */
export interface EvidenceRef {
  kind: string;
  /** `sha256:<hex>`, the key in the content-addressed store. */
  ref: string;
  sha256: string;
  size: number;
  contentType: string;
}

export interface VerificationState {
  id: string;
  provider: Provider;
  reference: string;
  status: VerificationStatus;
  outcome: VerificationOutcome | null;
  /** The vendor's own status word, as last read from the vendor. */
  providerStatus: string | null;
  /** The vendor's id for this case (e.g. Finwave's onboardingId). */
  providerReference: string | null;
  /** Why the flow ended the way it did, in words an operator understands. No personal data. */
  reason: string | null;
  nextAction: NextAction;
  /** Non-identifying facts the vendor returned (scores, step results, error codes). */
  facts: Record<string, string | number | boolean | null>;
  evidence: EvidenceRef[];
  timeline: TimelineEntry[];
  /** The append-only audit trail (always set by the Verification tracker; optional for older callers' types). */
  audit?: AuditEntry[];
  createdAt: string;
  updatedAt: string;
}

// --- Workflow IDs: the caller's idempotency key (provider + reference) doubles as the ID. ---

export const REFERENCE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export function verificationId(provider: Provider, reference: string): string {
  return `${provider}:${reference}`;
}

export function parseVerificationId(id: string): { provider: string; reference: string } | null {
  const sep = id.indexOf(':');
  if (sep <= 0) return null;
  const provider = id.slice(0, sep);
  const reference = id.slice(sep + 1);
  if (!/^[a-z0-9]+$/.test(provider) || !REFERENCE_PATTERN.test(reference)) return null;
  return { provider, reference };
}

// --- Search attributes: opaque values only, never personal data (they are not encrypted). ---

export const SEARCH_ATTRIBUTES = {
  provider: defineSearchAttributeKey('VerificationProvider', SearchAttributeType.KEYWORD),
  status: defineSearchAttributeKey('VerificationStatus', SearchAttributeType.KEYWORD),
  outcome: defineSearchAttributeKey('VerificationOutcome', SearchAttributeType.KEYWORD),
  /** Why an operator must look at this case; absent when nothing needs a person. */
  attention: defineSearchAttributeKey('VerificationAttention', SearchAttributeType.KEYWORD),
  /**
   * The vendor's id for the case, where that id is opaque and no credential (Fourthline's
   * verificationId): webhooks that carry only the vendor's id find the verification with it.
   */
  providerReference: defineSearchAttributeKey('VerificationProviderReference', SearchAttributeType.KEYWORD),
};

// --- The last state a workflow published, for readers without a worker (client/verifications.ts). ---

/** Memo key of the published state (the memo is encrypted by the payload codec like every payload). */
export const STATE_MEMO_KEY = 'verificationState';
/** Memo key of Fourthline's case view (signature attempts, consent), published next to the state. */
export const FOURTHLINE_CASE_MEMO_KEY = 'fourthlineCase';
/** How many timeline entries the memo keeps (the newest); the query and the result hold them all. */
export const MEMO_MAX_ENTRIES = 50;

/**
 * The state as published in the memo: the newest timeline entries, and no audit trail (it names
 * the end user: IP address, user agent, which must not reach describe() output even decoded).
 * `memoTruncated` says what was left out; the audit trail is read from the query or the result.
 */
export interface PublishedState extends VerificationState {
  memoTruncated?: { timeline: number; audit: number };
}

export function stateForMemo(s: VerificationState): PublishedState {
  const timelineDropped = Math.max(0, s.timeline.length - MEMO_MAX_ENTRIES);
  const auditDropped = s.audit?.length ?? 0;
  const { audit: _audit, ...rest } = s;
  const out: PublishedState = { ...rest, timeline: s.timeline.slice(timelineDropped) };
  if (timelineDropped || auditDropped) out.memoTruncated = { timeline: timelineDropped, audit: auditDropped };
  return out;
}

// --- Messages every verification workflow answers. ---

/** The whole normalized state; answered also after the workflow has closed. */
export const stateQuery = defineQuery<VerificationState>('state');

/** Stop the flow on the caller's request. Refused (by the validator) once the flow has ended. */
export const cancelUpdate = defineUpdate<VerificationState, [{ reason?: string; actor?: AuditActor }]>('cancel');

/**
 * Answers once the flow has something for the caller to do (or has ended), so that the create call
 * can hand back `nextAction` in the same request. Waits at most `maxWaitMs`.
 */
export const nextActionUpdate = defineUpdate<VerificationState, [{ maxWaitMs: number }]>('nextAction');

export interface VerificationInputBase {
  id: string;
  reference: string;
}

// --- The audit trail: what the applicant was shown and accepted, and who drove each step. ---

/** Who drove a step through our API: the API key's id, and what the caller passed on about its end user. */
export interface AuditActor {
  keyId: string;
  /** `X-End-User-IP`, as the caller passed it (validated as an IP address). */
  endUserIp: string | null;
  /** `X-End-User-Agent`, as the caller passed it. */
  endUserAgent: string | null;
}

/**
 * One entry of a verification's append-only audit trail. It lives in the workflow's state (encrypted
 * history) and is answered by `GET /v1/verifications/:id/audit`; entries that arrive once the workflow
 * has closed (an erasure) go to the API's audit log instead (client/audit-log.ts).
 */
export interface AuditEntry {
  at: string;
  /** e.g. `created`, `action approve`, `cancel requested`, `consent shown`, `consent accepted`, `personal data erased`. */
  event: string;
  /** Null when the vendor (or the applicant at the vendor's pages) is the source. */
  actor: AuditActor | null;
  /** What was shown / accepted (legal-condition versions, consent flags, acceptation texts), or the step's result. */
  detail: Record<string, unknown>;
}

/** The API appends an entry after each step it drove (create, actions, downloads, erasure). */
export const auditSignal = defineSignal<[AuditEntry]>('audit');
