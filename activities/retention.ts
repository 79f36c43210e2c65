/**
 * Retention: releases every evidence claim older than its kind's retention (EVIDENCE_RETENTION); the
 * bytes go with the last claim on them. Run by the `evidenceRetention` workflow, which a Temporal
 * Schedule starts every day (client/retention-schedule.ts).
 *
 * `now` comes from the workflow (workflow time), so that a time-skipping test moves it, and so that a
 * retried attempt judges by the same instant.
 */
import { heartbeat, log } from '@temporalio/activity';
import { retentionFor, type RetentionRule } from '../config/personal-data';
import type { EvidenceStore } from './evidence-store';

export interface RetentionReport {
  /** The instant retention was judged at (ISO). */
  now: string;
  examined: number;
  /** Claims released, per kind. */
  released: Record<string, number>;
  /** Artifacts whose bytes were deleted (no claim left). */
  bytesDeleted: number;
}

export function createRetentionActivities({ store, rules }: { store: EvidenceStore; rules: RetentionRule[] }) {
  return {
    async evidenceApplyRetention({ now }: { now: number }): Promise<RetentionReport> {
      const report: RetentionReport = { now: new Date(now).toISOString(), examined: 0, released: {}, bytesDeleted: 0 };
      for (const claim of await store.claims()) {
        report.examined++;
        const expiresAt = Date.parse(claim.storedAt) + retentionFor(rules, claim.kind);
        if (!(now >= expiresAt)) continue;
        const { bytesDeleted } = await store.release(claim);
        report.released[claim.kind] = (report.released[claim.kind] ?? 0) + 1;
        if (bytesDeleted) report.bytesDeleted++;
        if (report.examined % 100 === 0) heartbeat(report.examined);
      }
      // Counts and kinds only: never an owner (a verification id is the caller's reference).
      log.info('evidence retention applied', { examined: report.examined, bytesDeleted: report.bytesDeleted });
      return report;
    },
  };
}

export type RetentionActivities = ReturnType<typeof createRetentionActivities>;
