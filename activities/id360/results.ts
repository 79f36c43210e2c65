/** The enrollment's status and reports (JSON and PDF), and the end of the workflow's interest in it. */
import { ApplicationFailure } from '@temporalio/common';
import { log } from '@temporalio/activity';
import type { EvidenceRef } from '../evidence-types';
import { callVendor, FAILURE_TYPES } from '../http';
import { id360ErrorCode } from '../id360-session';
import { enrollmentResponse, ID360_API, reportResponse, type Id360Status } from './api';
import { vendor, type Id360Context } from './context';
import type { Held, Id360Deps, Id360ReportSummary } from './types';

export function id360ResultActivities(ctx: Id360Context, { store, session }: Id360Deps) {
  const { url } = ctx;

  return {
    async id360GetStatus(
      input: { enrollmentId: string } & Held,
    ): Promise<{ status: Id360Status; reason: string | null }> {
      session.hold(input.enrollmentId, input.holdForMs);
      const { body } = await session.call((authorization) =>
        callVendor({
          vendor,
          operation: 'getEnrollment',
          method: ID360_API.getEnrollment.method,
          url: url('getEnrollment', { id: input.enrollmentId }),
          headers: { accept: 'application/json', authorization },
          schema: enrollmentResponse,
          errorCode: id360ErrorCode,
        }),
      );
      return { status: body.status, reason: body.reason ?? null };
    },

    async id360FetchReport(input: { enrollmentId: string } & Held): Promise<Id360ReportSummary> {
      session.hold(input.enrollmentId, input.holdForMs);
      const { body, raw } = await ctx.reportNotReadyIsRetryable('getReport', () =>
        session.call((authorization) =>
          callVendor({
            vendor,
            operation: 'getReport',
            method: ID360_API.getReport.method,
            url: url('getReport', { id: input.enrollmentId }),
            headers: { accept: 'application/json', authorization },
            schema: reportResponse,
            errorCode: id360ErrorCode,
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
          callVendor({
            vendor,
            operation: 'getPdfReport',
            method: ID360_API.getPdfReport.method,
            url: url('getPdfReport', { id: input.enrollmentId }),
            headers: { accept: 'application/pdf', authorization },
            errorCode: id360ErrorCode,
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
