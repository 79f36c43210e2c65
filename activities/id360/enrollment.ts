/** The enrollment's creation and its steps: route, consent, data comparison, uploads, finalize. */
import type { z } from 'zod';
import { log } from '@temporalio/activity';
import { webhookToken } from '../../config/webhook-token';
import type { EvidenceRef } from '../evidence-types';
import { createsUnanswered } from '../http';
import { httpStatusOf } from '../id360-session';
import { sealApiKey } from '../id360-secrets';
import {
  createEnrollmentResponse,
  enrollmentInfoResponse,
  type createEnrollmentRequest,
  type Id360DataName,
  type Id360Status,
} from './api';
import { id360UserLink, vendorCodeOf, type Id360Context } from './context';
import type { Held, Id360Created, Id360CreateInput, Id360Deps, Id360EnrollmentRef } from './types';

/** The header our callback endpoint requires; its value is per verification (HMAC of the workflow id). */
export const ID360_CALLBACK_HEADER = 'X-Idv-Callback-Token';

export function id360EnrollmentActivities(ctx: Id360Context, deps: Id360Deps) {
  const { config, session, publicBaseUrl, webhookSecret } = deps;
  const { apiKeyOf } = ctx;

  return {
    async id360CreateEnrollment(input: Id360CreateInput): Promise<Id360Created> {
      const a = input.applicant;
      const { body } = await session.call((authorization) =>
        ctx.request('createEnrollment', {
          params: { processId: config.processId },
          headers: { accept: 'application/json', authorization },
          json: {
            browser_callback_url: input.returnUrl ?? publicBaseUrl,
            client_reference: input.reference,
            callback_endpoints: [
              {
                url: `${publicBaseUrl}/webhooks/id360/${encodeURIComponent(input.workflowId)}`,
                on: [],
                headers: [
                  { name: ID360_CALLBACK_HEADER, value: webhookToken(webhookSecret, 'id360', input.workflowId) },
                ],
              },
            ],
            ...defined({
              last_name: a.lastName,
              first_name: a.firstName,
              email: a.email,
              address_line_1: a.addressLine1,
              address_line_2: a.addressLine2,
              address_line_3: a.addressLine3,
              zip_code: a.zipCode,
              city: a.city,
              country: a.country,
              phone_number: a.phoneNumber,
              group: a.group,
            }),
          } satisfies z.input<typeof createEnrollmentRequest>,
          schema: createEnrollmentResponse,
          unansweredCreate: true,
        }),
      );
      session.hold(body.id, input.holdForMs);
      const sealedApiKey = sealApiKey(webhookSecret, input.workflowId, body.api_key);
      log.info('ID360 enrollment created', { enrollmentId: body.id, status: body.status });
      return {
        workflowId: input.workflowId,
        enrollmentId: body.id,
        sealedApiKey,
        status: body.status,
        createsUnanswered: createsUnanswered(),
        userUrl: input.mode === 'browser' ? id360UserLink(publicBaseUrl, input.workflowId, sealedApiKey) : null,
      };
    },

    async id360GetEnrollmentInfo(
      input: Id360EnrollmentRef & Held,
    ): Promise<{ status: Id360Status | null; routes: number[]; expectedData: string[] }> {
      session.hold(input.enrollmentId, input.holdForMs);
      const { body } = await ctx.request('enrollmentInfo', {
        headers: { accept: 'application/json', 'x-api-key': apiKeyOf(input) },
        schema: enrollmentInfoResponse,
      });
      return {
        status: body.status ?? null,
        routes: body.routes.map((r) => r.id),
        expectedData: body.expected_data ?? [],
      };
    },

    async id360SelectRoute(input: Id360EnrollmentRef & Held & { routeId: number }): Promise<void> {
      session.hold(input.enrollmentId, input.holdForMs);
      await ctx.request('selectRoute', {
        params: { routeId: input.routeId },
        headers: { accept: 'application/json', 'x-api-key': apiKeyOf(input), 'content-type': 'text/plain' },
      });
    },

    async id360RecordConsent(
      input: Id360EnrollmentRef & Held & { acceptedCgu: true; acceptedBiometry: boolean },
    ): Promise<void> {
      session.hold(input.enrollmentId, input.holdForMs);
      const q = `?accepted_cgu=true${input.acceptedBiometry ? '&accepted_biometry=true' : ''}`;
      await ctx.request('consent', {
        query: q,
        headers: { accept: '*/*', 'x-api-key': apiKeyOf(input) },
      });
    },

    async id360CompareData(input: { enrollmentId: string; field: Id360DataName; value: string } & Held): Promise<void> {
      session.hold(input.enrollmentId, input.holdForMs);
      try {
        await session.call((authorization) =>
          ctx.request('compareData', {
            operation: `compareData(${input.field})`,
            params: { id: input.enrollmentId, dataName: input.field },
            query: '?locked=true',
            headers: { accept: 'text/plain', authorization, 'content-type': 'text/plain; charset=utf-8' },
            body: input.value,
          }),
        );
      } catch (err) {
        if (!ctx.alreadyDoneOnRetry(err, 'DATA_LOCKED')) throw err;
      }
    },

    async id360UploadDocumentPage(
      input: Id360EnrollmentRef & Held & { page: number; totalPages: number; document: EvidenceRef },
    ): Promise<void> {
      session.hold(input.enrollmentId, input.holdForMs);
      await ctx.upload(input, 'uploadDocumentPage', input.totalPages, input.page, input.document);
      log.info('ID360 document page uploaded', {
        enrollmentId: input.enrollmentId,
        page: input.page,
        totalPages: input.totalPages,
      });
    },

    async id360UploadSelfie(input: Id360EnrollmentRef & Held & { selfie: EvidenceRef }): Promise<void> {
      session.hold(input.enrollmentId, input.holdForMs);
      await ctx.upload(input, 'uploadSelfie', 1, 0, input.selfie);
    },

    async id360Finalize(input: Id360EnrollmentRef & Held): Promise<void> {
      session.hold(input.enrollmentId, input.holdForMs);
      try {
        await ctx.request('finalize', {
          headers: { accept: 'application/json', 'x-api-key': apiKeyOf(input) },
        });
      } catch (err) {
        // Finalize is accepted once by the workflow, so "already finalized" on any attempt means ours went
        // through unanswered: a Temporal retry, or the user's repeated action after the earlier activity ran
        // out of attempts (a done step, not a refusal).
        // ENROLLMENT_CLOSED: it went on to its verdict since (or ended otherwise): the status read tells which.
        const code = vendorCodeOf(err);
        if (!(httpStatusOf(err) === 409 && (code === 'ENROLLMENT_ALREADY_FINALIZED' || code === 'ENROLLMENT_CLOSED')))
          throw err;
      }
    },
  };
}

function defined(o: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).filter((kv): kv is [string, string] => kv[1] !== undefined));
}
