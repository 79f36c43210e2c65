/**
 * Vendor outages shorter than a flow's own deadline never end the flow. A polling read that fails
 * for a reason the vendor may recover from (5xx, 429, no answer, retries used up) answers null and
 * the flow polls again at its next slot, until its own deadline; the timeline says, once, since when
 * the vendor is unreachable, and once when it answers again. Business refusals (4xx) and invalid
 * answers are not outages: they are rethrown.
 */
import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/workflow';

export interface OutageNotes {
  note(event: string, detail?: string): void;
}

/** A failure the vendor may recover from: a timeout, or a retryable ApplicationFailure whose retries ran out. */
export function isTransientVendorFailure(err: unknown): boolean {
  if (!(err instanceof ActivityFailure)) return false;
  const cause = err.cause;
  if (cause instanceof TimeoutFailure) return true;
  return cause instanceof ApplicationFailure && !cause.nonRetryable;
}

export class VendorOutage {
  /** Epoch ms of the first failed read of the current outage; null while the vendor answers. Carried across continue-as-new. */
  since: number | null;

  constructor(
    private readonly vendor: string,
    private readonly notes: OutageNotes,
    since: number | null = null,
  ) {
    this.since = since;
  }

  /** Runs a background read; null while the vendor is unreachable. */
  async read<T>(fn: () => Promise<T>): Promise<T | null> {
    try {
      const value = await fn();
      if (this.since !== null) {
        this.notes.note(
          'vendor reachable again',
          `${this.vendor} was unreachable from ${new Date(this.since).toISOString()}`,
        );
        this.since = null;
      }
      return value;
    } catch (err) {
      if (!isTransientVendorFailure(err)) throw err;
      if (this.since === null) {
        this.since = Date.now();
        this.notes.note(
          'vendor unreachable',
          `${this.vendor} unreachable since ${new Date(this.since).toISOString()}; retrying until the flow's deadline`,
        );
      }
      return null;
    }
  }

  /** A reason suffix for an ending while the vendor is unreachable. */
  suffix(): string {
    return this.since === null ? '' : ` (${this.vendor} unreachable since ${new Date(this.since).toISOString()})`;
  }
}
