/**
 * How an ID360 enrollment ends: its final status, and for a verdict (OK / KO) the report (JSON and PDF)
 * stored as evidence, decide the normalized outcome.
 */
import type { Id360ReportSummary, Id360Status } from '../activities/id360';
import { RESTART_WITH_NEW_REFERENCE, type VerificationOutcome } from './shared';
import type { Verification } from './verification';
import type { Id360Flow } from './id360-messages';
import { holdForMs, id360 } from './id360-vendor';

/** Concludes the flow with ID360's final status: a verdict's report is stored first, and decides. */
export async function conclude(
  v: Verification,
  flow: Id360Flow,
  final: NonNullable<Id360Flow['final']>,
): Promise<void> {
  const enrollmentId = flow.enrollment!.enrollmentId;
  if (final.status === 'OK' || final.status === 'KO') {
    v.progress('processing', `verdict ${final.status} received by ${final.via}`, {
      providerStatus: final.status,
      nextAction: { type: 'wait', reason: 'collecting the ID360 report' },
    });
    const report = await id360.id360FetchReport({ enrollmentId, holdForMs: holdForMs(flow) });
    v.addEvidence(report.reportRef);
    v.setFacts(factsOf(report));
    const pdf = await id360.id360FetchPdfReport({ enrollmentId, holdForMs: holdForMs(flow) });
    v.addEvidence(pdf);
    v.note(
      'report stored',
      `JSON ${report.reportRef.sha256.slice(0, 12)}, PDF ${pdf.sha256.slice(0, 12)} (${pdf.size} bytes)`,
    );
    // The report is ID360's final word on the enrollment: its status decides.
    const d = decideId360Outcome(report.status, report.reason);
    v.finish(d.status, d.outcome, d.reason, {
      providerStatus: report.status,
      ...(d.restart ? { nextAction: RESTART_WITH_NEW_REFERENCE } : {}),
    });
    return;
  }
  v.setFacts({ reason: final.reason });
  const d = decideId360Outcome(final.status, final.reason);
  v.finish(d.status, d.outcome, d.reason, {
    providerStatus: final.status,
    ...(d.restart ? { nextAction: RESTART_WITH_NEW_REFERENCE } : {}),
  });
}

/** The normalized outcome of an ID360 final status. */
export function decideId360Outcome(
  status: Id360Status,
  reason: string | null,
): { status: 'completed' | 'failed' | 'expired'; outcome: VerificationOutcome; reason: string; restart: boolean } {
  const because = reason ? ` (${reason})` : '';
  switch (status) {
    case 'OK':
      return { status: 'completed', outcome: 'approved', reason: 'ID360 verdict OK', restart: false };
    case 'KO':
      return { status: 'completed', outcome: 'rejected', reason: `ID360 verdict KO${because}`, restart: false };
    case 'CANCELED':
      return reason === 'ERL_TIMEOUT'
        ? {
            status: 'expired',
            outcome: 'expired',
            reason: "ID360's time to complete the enrollment ran out (ERL_TIMEOUT)",
            restart: true,
          }
        : { status: 'failed', outcome: 'abandoned', reason: `the enrollment was canceled${because}`, restart: true };
    case 'FAILED':
      return {
        status: 'failed',
        outcome: 'error',
        reason: `ID360 could not complete the enrollment${because}`,
        restart: true,
      };
    case 'DELETED':
      return { status: 'failed', outcome: 'error', reason: `ID360 deleted the enrollment${because}`, restart: true };
    case 'NEW':
    case 'STARTED':
      return {
        status: 'failed',
        outcome: 'error',
        reason: `ID360 reported no final status (${status})`,
        restart: true,
      };
  }
}

function factsOf(r: Id360ReportSummary): Record<string, string | number | boolean | null> {
  const facts: Record<string, string | number | boolean | null> = { reason: r.reason };
  for (const [name, result] of Object.entries(r.checks)) facts[`check.${name}`] = result;
  for (const [name, state] of Object.entries(r.steps)) facts[`step.${name}`] = state;
  return facts;
}

export function isFinal(status: Id360Status): boolean {
  return status === 'OK' || status === 'KO' || status === 'FAILED' || status === 'CANCELED' || status === 'DELETED';
}
