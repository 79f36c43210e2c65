/**
 * Fourthline's windows, in one place: which vendor status starts which clock, when each window
 * closes, and how a signature attempt ends when one does. Every phase has a deadline: the vendor's
 * window where the doc gives one, and always the case deadline. Pure functions over plain data.
 */
import type { Duration } from '@temporalio/common';
import type { FourthlineSignatureStatus } from '../activities/fourthline';
import type { AttemptOutcome, AttemptPhase, AttemptWindows, FourthlineOptions } from './fourthline-messages';
import { ms } from './time';

/** The attempt's clocks, in workflow time (epoch ms); null until the status that starts them is seen. */
export interface AttemptClocks {
  consentAt: number | null;
  confirmationAt: number | null;
  passcodeSentAt: number | null;
  selfieAt: number | null;
  flowStartedAt: number | null;
}

export const noClocks = (): AttemptClocks => ({
  consentAt: null,
  confirmationAt: null,
  passcodeSentAt: null,
  selfieAt: null,
  flowStartedAt: null,
});

/** Starts the clocks the doc attaches to a status (a clock already running keeps its start). */
export function startClocks(c: AttemptClocks, status: FourthlineSignatureStatus, now: number): void {
  switch (status) {
    case 'user_consent_required':
      c.consentAt ??= now;
      c.flowStartedAt ??= now;
      return;
    case 'selfie_required':
      c.selfieAt ??= now;
      c.flowStartedAt ??= now;
      return;
    case 'confirmation_required':
      c.confirmationAt ??= now;
      c.passcodeSentAt ??= now;
      return;
    case 'error':
      c.flowStartedAt ??= now;
      return;
    default:
      return;
  }
}

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
const after = (t: number | null, d: Duration) => (t === null ? null : t + ms(d));

/** The windows as the API shows them. */
export function windowsOf(c: AttemptClocks, o: FourthlineOptions): AttemptWindows {
  return {
    approveBy: iso(after(c.consentAt, o.approvalWindow)),
    confirmBy: iso(after(c.confirmationAt, o.confirmationWindow)),
    passcodeValidUntil: iso(after(c.passcodeSentAt, o.passcodeValidity)),
    selfieBy: iso(after(c.selfieAt, o.selfieWindow)),
    errorAt: iso(after(c.flowStartedAt, o.errorAfter)),
  };
}

export interface AttemptDeadline {
  at: number;
  outcome: AttemptOutcome;
  reason: string;
}

/** When the current phase ends by itself, and how: the earliest of its windows and the case deadline. */
export function nextDeadline(
  phase: AttemptPhase,
  c: AttemptClocks,
  o: FourthlineOptions,
  caseDeadlineAt: number | null,
): AttemptDeadline | null {
  const candidates: (AttemptDeadline | null)[] = [];
  if (caseDeadlineAt !== null) {
    candidates.push({
      at: caseDeadlineAt,
      outcome: 'expired',
      reason: `the case deadline (${String(o.caseDeadline)}) passed while the signature was ${phase.replace('_', ' ')}`,
    });
  }
  const errorAt = after(c.flowStartedAt, o.errorAfter);
  const errorEnd =
    errorAt === null
      ? null
      : {
          at: errorAt,
          outcome: 'error' as const,
          reason: `the signature was not finished ${String(o.errorAfter)} after it started: Fourthline turns it to error`,
        };
  switch (phase) {
    case 'awaiting_approval':
      candidates.push(
        {
          at: after(c.consentAt, o.approvalWindow)!,
          outcome: 'expired',
          reason: `approval window closed: not approved within ${String(o.approvalWindow)} of user_consent_required`,
        },
        errorEnd,
      );
      break;
    case 'awaiting_confirmation':
      candidates.push(
        {
          at: after(c.confirmationAt, o.confirmationWindow)!,
          outcome: 'expired',
          reason: `confirmation window closed: not confirmed within ${String(o.confirmationWindow)} of confirmation_required`,
        },
        {
          at: after(c.passcodeSentAt, o.passcodeValidity)!,
          outcome: 'expired',
          reason: `the passcode expired: not entered within ${String(o.passcodeValidity)}`,
        },
        errorEnd,
      );
      break;
    case 'awaiting_selfie':
      candidates.push(
        {
          at: after(c.selfieAt, o.selfieWindow)!,
          outcome: 'error',
          reason: `no selfie within ${String(o.selfieWindow)}: Fourthline turns the signature to error`,
        },
        errorEnd,
      );
      break;
    case 'vendor_error':
      // A recoverable error returns to the previous status by itself (doc); one still there at the
      // 24 h mark is not recoverable.
      candidates.push(errorEnd);
      break;
    default:
      break;
  }
  return (
    candidates
      .filter((d): d is AttemptDeadline => d !== null && Number.isFinite(d.at))
      .sort((x, y) => x.at - y.at)[0] ?? null
  );
}

/**
 * Whether a read of the vendor can show a change in this phase. Documents and the mobile number
 * move only through our own Updates, so those phases wait for the integrator (or a webhook, or the
 * deadline) without polling.
 */
export function vendorMayMove(phase: AttemptPhase): boolean {
  return phase !== 'awaiting_documents' && phase !== 'awaiting_mobile' && phase !== 'ended';
}

/** Polls that see no change back off (x2) up to this; a change or a webhook resets to pollInterval. */
export const POLL_BACKOFF_CAP_MS = 6 * 3_600_000;

export function nextPollInterval(currentMs: number, changed: boolean, o: FourthlineOptions): number {
  const base = ms(o.pollInterval);
  return changed ? base : Math.min(Math.max(currentMs, base) * 2, Math.max(base, POLL_BACKOFF_CAP_MS));
}

/** What an attempt waits for in each phase, as the Web UI's timer summaries say it (no personal data). */
export const PHASE_WAITS: Record<AttemptPhase, string> = {
  starting: 'waiting for Fourthline',
  awaiting_eligibility: 'waiting for the eligibility checks',
  awaiting_documents: 'waiting for the documents to sign',
  awaiting_mobile: "waiting for the client's mobile number",
  awaiting_selfie: "waiting for the client's selfie",
  awaiting_approval: "waiting for the client's approval",
  awaiting_confirmation: "waiting for the client's SMS passcode",
  vendor_error: 'Fourthline reported an error: waiting for it to recover',
  pending_verification: 'signed: waiting for Fourthline to complete the case',
  signed: 'signed: downloading the documents',
  ended: 'ended',
};
