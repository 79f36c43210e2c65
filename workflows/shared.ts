/**
 * What every vendor workflow and the API share: the normalized verification state, the workflow ID
 * scheme, the search attributes and the messages common to all flows.
 *
 * Imported by workflow code, so it must stay deterministic: no Node APIs, no I/O.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType, type UpdateDefinition } from '@temporalio/common';
import type { EvidenceRef } from '../activities/evidence-types';

export type { EvidenceRef };

/**
 * A vendor's name, as its registry entry (config/vendors/index.ts) spells it. A plain string here: the
 * registry sits above every layer (it wires the vendors' workflows, activities and routes together), so
 * nothing below it imports it, not even its types. The API admits only registered names.
 */
export type Provider = string;

/** The lifecycle every vendor flow is mapped onto. */
export type VerificationStatus =
  'created' | 'awaiting_user' | 'processing' | 'completed' | 'failed' | 'expired' | 'cancelled';

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

/** The caller must start a new verification; `reason` says which (a new reference, IDV and QES again). */
export function restartWith(reason: string): NextAction {
  return { type: 'restart', reason };
}

/** The usual restart: the flow ended in a way only a new verification can move past. */
export const RESTART_WITH_NEW_REFERENCE = restartWith('start a new verification with a new reference');

export interface TimelineEntry {
  at: string;
  event: string;
  status: VerificationStatus;
  providerStatus: string | null;
  detail?: string;
}

export interface VerificationState {
  id: string;
  provider: Provider;
  reference: string;
  status: VerificationStatus;
  outcome: VerificationOutcome | null;
  /** The vendor's own status word, as last read from the vendor. */
  providerStatus: string | null;
  /** The vendor's id for this case (e.g. its onboarding id). */
  providerReference: string | null;
  /** Why the flow ended the way it did, in words an operator understands. No personal data. */
  reason: string | null;
  nextAction: NextAction;
  /** Non-identifying facts the vendor returned (scores, step results, error codes). */
  facts: Record<string, string | number | boolean | null>;
  evidence: EvidenceRef[];
  timeline: TimelineEntry[];
  /** The append-only audit trail (always set by the Verification tracker; optional because the memo leaves it out: stateForMemo). */
  audit?: AuditEntry[];
  createdAt: string;
  updatedAt: string;
  /** The last notification event's sequence number (workflows/notifier.ts); carry it across continue-as-new. */
  notificationSequence?: number;
}

// --- Workflow IDs: the caller's idempotency key (provider + reference) doubles as the ID. ---

export const REFERENCE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export function verificationId(provider: Provider, reference: string): string {
  return `${provider}:${reference}`;
}

/**
 * The provider and reference of a verification id, or null when it is not one. Accepts the API-visible
 * id (`provider:reference`) and a workflow id (`<tenant>~provider:reference`, see `tenantWorkflowId`):
 * the webhook and return receivers get workflow ids back from the URLs and states we signed.
 */
export function parseVerificationId(id: string): { provider: string; reference: string; tenant: string } | null {
  const scoped = parseTenantWorkflowId(id);
  if (!scoped) return null;
  const sep = scoped.id.indexOf(':');
  if (sep <= 0) return null;
  const provider = scoped.id.slice(0, sep);
  const reference = scoped.id.slice(sep + 1);
  if (!/^[a-z0-9]+$/.test(provider) || !REFERENCE_PATTERN.test(reference)) return null;
  return { provider, reference, tenant: scoped.tenant };
}

// --- Tenants: each API key belongs to one; verification ids are per tenant. ---

/** The tenant of keys configured without one (`keyId:token`, and the development key). */
export const DEFAULT_TENANT = 'default';
export const TENANT_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/;
const TENANT_SEPARATOR = '~';

/**
 * The workflow id of a tenant's verification: `<tenant>~<provider>:<reference>`, and for the default
 * tenant the verification id itself (so workflows started before tenants existed keep their ids). Two
 * tenants using the same reference never meet: their workflow ids differ. The API shows `provider:reference`.
 */
export function tenantWorkflowId(tenant: string, verificationId: string): string {
  return tenant === DEFAULT_TENANT ? verificationId : `${tenant}${TENANT_SEPARATOR}${verificationId}`;
}

/** The inverse of `tenantWorkflowId`: the tenant and the API-visible id, or null when the tenant part is malformed. */
export function parseTenantWorkflowId(workflowId: string): { tenant: string; id: string } | null {
  const sep = workflowId.indexOf(TENANT_SEPARATOR);
  if (sep < 0) return { tenant: DEFAULT_TENANT, id: workflowId };
  const tenant = workflowId.slice(0, sep);
  if (!TENANT_PATTERN.test(tenant) || tenant === DEFAULT_TENANT) return null;
  return { tenant, id: workflowId.slice(sep + 1) };
}

/**
 * The reference we give a vendor that deduplicates on it (a custom id of ours): the caller's reference
 * for the default tenant (as before tenants), `<tenant>~<reference>` otherwise, so that two tenants'
 * equal references never reach the same vendor session.
 */
export function vendorReference(workflowId: string, reference: string): string {
  const tenant = parseTenantWorkflowId(workflowId)?.tenant ?? DEFAULT_TENANT;
  return tenant === DEFAULT_TENANT ? reference : `${tenant}${TENANT_SEPARATOR}${reference}`;
}

/** The API-visible id (`provider:reference`) of a workflow id. */
export function apiVerificationId(workflowId: string): string {
  return parseTenantWorkflowId(workflowId)?.id ?? workflowId;
}

// --- Search attributes: opaque values only, never personal data (they are not encrypted). ---

export const SEARCH_ATTRIBUTES = {
  provider: defineSearchAttributeKey('VerificationProvider', SearchAttributeType.KEYWORD),
  status: defineSearchAttributeKey('VerificationStatus', SearchAttributeType.KEYWORD),
  outcome: defineSearchAttributeKey('VerificationOutcome', SearchAttributeType.KEYWORD),
  /** Why an operator must look at this case; absent when nothing needs a person. */
  attention: defineSearchAttributeKey('VerificationAttention', SearchAttributeType.KEYWORD),
  /**
   * The vendor's id for the case, where that id is opaque and no credential (e.g. a case's
   * verification id): webhooks that carry only the vendor's id find the verification with it.
   */
  providerReference: defineSearchAttributeKey('VerificationProviderReference', SearchAttributeType.KEYWORD),
  /** The tenant (of the API key) that started the verification. */
  tenant: defineSearchAttributeKey('VerificationTenant', SearchAttributeType.KEYWORD),
};

// --- The last state a workflow published, for readers without a worker (client/verifications.ts). ---

/** Memo key of the published state (the memo is encrypted by the payload codec like every payload). */
export const STATE_MEMO_KEY = 'verificationState';
/** How many timeline entries the memo keeps (the newest); the query and the result hold them all. */
export const MEMO_MAX_ENTRIES = 50;

/**
 * The state as published in the memo: the newest timeline entries, and no audit trail (it names
 * the end user: IP address, user agent, which must not reach describe() output even decoded).
 * `memoTruncated` says what was left out; the audit trail is read from the query or the result.
 */
export interface PublishedState extends VerificationState {
  memoTruncated?: { timeline: number; audit: number };
  /** The run publishes after every change (workflows/verification.ts publish()): with no workflow task pending, this is the state. */
  memoCurrent?: true;
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

/**
 * The argument of a one-argument Update, for its validator: setHandler types the handler's parameter
 * from the definition but leaves the validator's untyped.
 */
export type UpdateArg<D> = D extends UpdateDefinition<infer _Ret, [infer A], infer _Name> ? A : never;

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
