/**
 * Fourthline's activities as the workflows call them, and how a vendor refusal inside a human step
 * becomes a clear Update failure (the API maps it to 409 / 422 / 502).
 */
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import type { FourthlineActivities } from '../activities/fourthline';
import { FOURTHLINE_REFUSALS } from './fourthline-messages';
import { vendorActivities } from './activity-queues';

// Background calls retry for long (a read that still fails is an outage: vendor-outage.ts); the
// human steps answer the caller within about a minute.
export const fl = vendorActivities<FourthlineActivities>('fourthline', {
  startToClose: '3 minutes', // longer than its 120 s uploads and downloads
  scheduleToClose: '1 hour',
  // At most 30 s between attempts: a user waits behind these calls (the processing call after the identity
  // upload); at 2 minutes, 30% failed vendor calls kept a case from moving on for over 3 minutes. A long
  // outage still costs one call per 30 s.
  retry: { maximumInterval: '30 seconds' },
  summary: 'Fourthline API · background call, retried (an outage is noted, not fatal)',
});
export const flNow = vendorActivities<FourthlineActivities>('fourthline', {
  startToClose: '30 seconds',
  scheduleToClose: '1 minute',
  retry: { initialInterval: '500 milliseconds', maximumAttempts: 4 },
  summary: "Fourthline API · a human step, answered to the integrator's call",
});

export const refuse = (type: keyof typeof FOURTHLINE_REFUSALS, message: string) =>
  ApplicationFailure.create({ type: FOURTHLINE_REFUSALS[type], message, nonRetryable: true });

/** A vendor refusal inside a human step, as a clear update failure (422 + Fourthline's code). */
export function asRefusal(err: unknown): unknown {
  if (!(err instanceof ActivityFailure) || !(err.cause instanceof ApplicationFailure)) return err;
  const d = (err.cause.details?.[0] ?? {}) as { httpStatus?: number; vendorCode?: string | null };
  if (d.httpStatus === 422 || d.httpStatus === 409 || d.httpStatus === 400) {
    return ApplicationFailure.create({
      type: FOURTHLINE_REFUSALS.rejected,
      message: `Fourthline refused the request (${d.vendorCode ?? `HTTP ${d.httpStatus}`})`,
      nonRetryable: true,
      details: [{ vendorCode: d.vendorCode ?? null, httpStatus: d.httpStatus }],
    });
  }
  return ApplicationFailure.create({
    type: FOURTHLINE_REFUSALS.rejected,
    message: err.cause.message,
    nonRetryable: true,
    details: [{ vendorCode: null, httpStatus: 502 }],
  });
}

export function vendorCodeOf(err: unknown): string | null {
  return err instanceof ApplicationFailure
    ? ((err.details?.[0] as { vendorCode?: string | null } | undefined)?.vendorCode ?? null)
    : null;
}
