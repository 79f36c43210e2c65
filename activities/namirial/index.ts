/**
 * Namirial VerifID enrollment activities (../shared/vendor-docs/namirial-verifid-enrollment.txt). The API
 * they call (endpoints, states, bodies, assumptions beyond the doc) is described in ./api.ts, shared with
 * sandboxes/namirial and the workflow.
 *
 * How we use it:
 * - The API token (config) is sent here only; never in history. Failures name the last segment of the
 *   problem Type (e.g. `-bad-request`) and the Title, never Details, which can quote the request (the
 *   applicant's data). 503 is retried by Temporal; 400 / 401 fail at once (`VendorRequestRejected`).
 * - ReturnUrl is `<PUBLIC_BASE_URL>/return/namirial/<signed state>`: the state is in the path because
 *   the doc appends `?verifidResult=...` to the ReturnUrl as it is.
 * - Idempotency of createEnrollment: no key, no look-up, no delete in the doc, so a create retried after
 *   a lost answer may open a second enrollment at Namirial (with the applicant's name and email); we use
 *   the one whose answer we received. The create's heartbeats mark the attempt (http.ts
 *   `unansweredCreate`); the answer carries `createsUnanswered`, the earlier attempts that sent it without
 *   hearing back. The workflow records them (`facts.vendorDuplicates`) and flags `VerificationAttention =
 *   vendor-duplicate-possible`. The orphan's Id cannot be learnt (Namirial calls nothing back; only the
 *   user's browser would reach its ReturnUrl, and the user never sees its EnrollUrl); its ReturnUrl carries
 *   our signed state, so Namirial's console can find it for deletion; Namirial expires it after 24 h; it
 *   decides nothing.
 */
import type { WebhookSecrets } from '../../config/webhook-token';
import type { z } from 'zod';
import { log } from '@temporalio/activity';
import type { NamirialConfig } from '../../config/vendors/namirial-config';
import { encodeReturnState } from '../../config/webhook-token';
import type { EvidenceRef } from '../evidence-types';
import type { EvidenceStore } from '../evidence-store';
import { callVendor, createsUnanswered } from '../http';
import { fillPath } from '../endpoints';
import {
  enrollmentResource,
  NAMIRIAL_API,
  NAMIRIAL_TOKEN_HEADER,
  namirialIsFinal,
  problemCode,
  type createEnrollmentRequest,
} from './api';

/** What the workflow sees of an enrollment: ids, state words and URLs. Never Name, LastName, Email, DocumentNumber. */
export interface NamirialEnrollmentSummary {
  enrollmentId: string;
  state: string;
  outcome: string | null;
  provider: string | null;
  kinds: string[];
  enrollUrl: string;
  /** The whole resource (with the personal data) in the evidence store, once the enrollment has ended. */
  resultRef: EvidenceRef | null;
  /** Create only: earlier attempts that sent the create unanswered (each may have left an orphan enrollment). */
  createsUnanswered?: number;
}

export interface NamirialCreateInput {
  workflowId: string;
  returnTo: string | null;
  /** Personal data: goes to Namirial only (and through history, to be encrypted by the payload codec). */
  applicant: { firstName: string; lastName: string; email: string };
  language: string;
}

export interface NamirialDeps {
  config: NamirialConfig;
  store: EvidenceStore;
  publicBaseUrl: string;
  webhookSecret: WebhookSecrets;
}

const errorCode = problemCode;
const errorTitle = (body: unknown): string | undefined => {
  const title = (body as { Title?: unknown } | null)?.Title;
  return typeof title === 'string' ? title : undefined;
};

/** Only short code-like words leave the activity (State, Outcome, Provider are vendor words, not personal data). */
const word = (s: string): string => (/^[A-Za-z0-9_-]{1,64}$/.test(s) ? s : 'Unrecognized');

export function createNamirialActivities({ config, store, publicBaseUrl, webhookSecret }: NamirialDeps) {
  const vendor = 'Namirial';
  const headers = { [NAMIRIAL_TOKEN_HEADER]: config.apiToken };

  const summarize = async (
    body: z.infer<typeof enrollmentResource>,
    raw: Buffer,
  ): Promise<NamirialEnrollmentSummary> => {
    const state = word(body.State);
    const outcome = body.Outcome ? word(body.Outcome) : null;
    return {
      enrollmentId: body.Id,
      state,
      outcome,
      provider: body.Provider ? word(body.Provider) : null,
      kinds: (body.Kinds ?? []).map(word),
      enrollUrl: body.EnrollUrl,
      resultRef: namirialIsFinal(state, outcome)
        ? await store.put('namirial-enrollment-json', 'application/json', raw)
        : null,
    };
  };

  return {
    async namirialCreateEnrollment(input: NamirialCreateInput): Promise<NamirialEnrollmentSummary> {
      const state = encodeReturnState(webhookSecret, 'namirial', {
        workflowId: input.workflowId,
        session: 1,
        returnTo: input.returnTo,
      });
      const { body, raw } = await callVendor({
        vendor,
        operation: 'createEnrollment',
        method: NAMIRIAL_API.createEnrollment.method,
        url: `${config.baseUrl}${NAMIRIAL_API.createEnrollment.path}`,
        headers,
        json: {
          Profile: config.profile,
          Language: input.language,
          Email: input.applicant.email,
          FirstName: input.applicant.firstName,
          LastName: input.applicant.lastName,
          ReturnUrl: `${publicBaseUrl}/return/namirial/${state}`,
        } satisfies z.input<typeof createEnrollmentRequest>,
        schema: enrollmentResource,
        errorCode,
        errorTitle,
        unansweredCreate: true,
      });
      const summary = { ...(await summarize(body, raw)), createsUnanswered: createsUnanswered() };
      log.info('Namirial enrollment created', {
        workflowId: input.workflowId,
        enrollmentId: summary.enrollmentId,
        state: summary.state,
      });
      return summary;
    },

    async namirialReadEnrollment({ enrollmentId }: { enrollmentId: string }): Promise<NamirialEnrollmentSummary> {
      const { body, raw } = await callVendor({
        vendor,
        operation: 'readEnrollment',
        method: NAMIRIAL_API.readEnrollment.method,
        url: `${config.baseUrl}${fillPath(NAMIRIAL_API.readEnrollment.path, { id: enrollmentId })}`,
        headers,
        schema: enrollmentResource,
        errorCode,
        errorTitle,
      });
      return summarize(body, raw);
    },
  };
}

export type NamirialActivities = ReturnType<typeof createNamirialActivities>;
