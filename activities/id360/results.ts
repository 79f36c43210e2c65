/** The enrollment's status and reports (JSON and PDF), and the end of the workflow's interest in it. */
import { ApplicationFailure } from '@temporalio/common';
import { log } from '@temporalio/activity';
import type { EvidenceRef } from '../evidence-types';
import { FAILURE_TYPES } from '../http';
import { enrollmentResponse, reportResponse, type Id360Status } from './api';
import type { Id360Context } from './context';
import type { Held, Id360Deps, Id360ReportSummary } from './types';

export function id360ResultActivities(ctx: Id360Context, { store, session }: Id360Deps) {
  return {
    async id360GetStatus(
      input: { enrollmentId: string } & Held,
    ): Promise<{ status: Id360Status; reason: string | null }> {
      session.hold(input.enrollmentId, input.holdForMs);
      const { body } = await session.call((authorization) =>
        ctx.request('getEnrollment', {
          params: { id: input.enrollmentId },
          headers: { accept: 'application/json', authorization },
          schema: enrollmentResponse,
        }),
      );
      return { status: body.status, reason: body.reason ?? null };
    },

    async id360FetchReport(input: { enrollmentId: string } & Held): Promise<Id360ReportSummary> {
      session.hold(input.enrollmentId, input.holdForMs);
      const { body, raw } = await ctx.reportNotReadyIsRetryable('getReport', () =>
        session.call((authorization) =>
          ctx.request('getReport', {
            params: { id: input.enrollmentId },
            headers: { accept: 'application/json', authorization },
            schema: reportResponse,
          }),
        ),
      );
      const reportRef = await store.put('id360-report-json', 'application/json', raw);
      log.info('ID360 report stored', {
        enrollmentId: input.enrollmentId,
        sha256: reportRef.sha256,
        size: reportRef.size,
      });
      return {
        enrollmentId: body.id,
        status: body.status,
        reason: body.reason ?? null,
        checks: Object.fromEntries((body.checks ?? []).map((c) => [c.name, c.result])),
        steps: body.steps_status ?? {},
        reportRef,
      };
    },

    async id360FetchPdfReport(input: { enrollmentId: string } & Held): Promise<EvidenceRef> {
      session.hold(input.enrollmentId, input.holdForMs);
      const { raw } = await ctx.reportNotReadyIsRetryable('getPdfReport', () =>
        session.call((authorization) =>
          ctx.request('getPdfReport', {
            params: { id: input.enrollmentId },
            headers: { accept: 'application/pdf', authorization },
            timeoutMs: 120_000,
          }),
        ),
      );
      if (raw.subarray(0, 5).toString('latin1') !== '%PDF-') {
        throw ApplicationFailure.create({
          message: 'ID360 getPdfReport: unexpected response, the body is not a PDF',
          type: FAILURE_TYPES.invalidResponse,
          nonRetryable: true,
        });
      }
      return store.put('id360-report-pdf', 'application/pdf', raw);
    },

    /** The workflow is done with this enrollment: this process stops keeping the token alive for it. */
    async id360EndEnrollment({ enrollmentId }: { enrollmentId: string }): Promise<void> {
      session.release(enrollmentId);
    },
  };
}
