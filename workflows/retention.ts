/**
 * Evidence retention, started every day by the `<prefix>-evidence-retention` Temporal Schedule
 * (client/retention-schedule.ts) on the housekeeping task queue: one activity releases the evidence
 * claims older than their kind's retention, judged at this workflow's time. The result (counts per
 * kind) is the record of what retention removed.
 */
import type { RetentionActivities, RetentionReport } from '../activities/retention';
import { activitiesOn } from './activity-queues';

const { evidenceApplyRetention } = activitiesOn<RetentionActivities>('housekeeping', {
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '5 minutes',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes', maximumAttempts: 10 },
});

export async function evidenceRetention(): Promise<RetentionReport> {
  return evidenceApplyRetention({ now: Date.now() });
}
