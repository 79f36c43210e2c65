/** The ID360 activities' inputs and results, as the workflow sees them. */
import type { WebhookSecrets } from '../../config/webhook-token';
import type { Id360Config } from '../../config/vendors/id360-config';
import type { EvidenceRef } from '../evidence-types';
import type { EvidenceStore } from '../evidence-store';
import type { Id360Session } from '../id360-session';
import type { Id360Status } from './api';

/** What the activities need to act on one enrollment: never the api_key in clear. */
export interface Id360EnrollmentRef {
  workflowId: string;
  enrollmentId: string;
  sealedApiKey: string;
}

/** Every activity keeps the session's token alive for its enrollment this much longer (the remaining deadline). */
export interface Held {
  holdForMs: number;
}

export interface Id360Applicant {
  lastName?: string;
  firstName?: string;
  email?: string;
  addressLine1?: string;
  addressLine2?: string;
  addressLine3?: string;
  zipCode?: string;
  city?: string;
  country?: string;
  phoneNumber?: string;
  group?: string;
}

export interface Id360CreateInput extends Held {
  workflowId: string;
  reference: string;
  mode: 'api' | 'browser';
  applicant: Id360Applicant;
  /** Where ID360 sends the user's browser at the end (browser mode). */
  returnUrl?: string;
}

export interface Id360Created extends Id360EnrollmentRef {
  status: Id360Status;
  /** Earlier attempts of this create that went out unanswered: each may have left an orphan enrollment. */
  createsUnanswered?: number;
  /** Browser mode: our link that redirects the user to ID360's pages (no api_key in it, only its sealed form). */
  userUrl: string | null;
}

/** What the workflow sees of a report: statuses and check results. No extracted identity data, no images. */
export interface Id360ReportSummary {
  enrollmentId: string;
  status: Id360Status;
  reason: string | null;
  checks: Record<string, string>;
  steps: Record<string, string>;
  /** The full report JSON (with the extracted identity) in the evidence store. */
  reportRef: EvidenceRef;
}

export interface Id360Deps {
  config: Id360Config;
  store: EvidenceStore;
  session: Id360Session;
  publicBaseUrl: string;
  webhookSecret: WebhookSecrets;
}
