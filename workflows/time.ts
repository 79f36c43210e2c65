import { msToNumber } from '@temporalio/common/lib/time';
import type { Duration } from '@temporalio/common';

/** A Temporal Duration ('15 minutes', '2h', 5000) in milliseconds. */
export function ms(duration: Duration): number {
  return msToNumber(duration);
}

/** '2026-12-01 14:05 UTC': a workflow-time instant as the Web UI's summaries show it. */
export function utc(atMs: number): string {
  return `${new Date(atMs).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/**
 * A timer's summary for the Web UI (user metadata on the timer command): what it waits for and
 * until when, one line, never personal data. Summaries are metadata only: replay ignores them.
 */
export function waitSummary(what: string, wakeAtMs: number, deadlineAtMs?: number): { summary: string } {
  const deadline = deadlineAtMs !== undefined && deadlineAtMs !== wakeAtMs ? ` · deadline ${utc(deadlineAtMs)}` : '';
  return { summary: `${what} · wakes ${utc(wakeAtMs)}${deadline}` };
}
