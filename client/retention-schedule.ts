/**
 * The Temporal Schedule that enforces evidence retention: `<prefix>-evidence-retention` starts the
 * `evidenceRetention` workflow (workflows/retention.ts) on the workflow task queue (its activity on
 * the housekeeping queue) every day (overlaps skipped, a missed day caught up within a day). Created, or brought up to date, by the API
 * at start (every replica: the first creates it, the others find it). Visible in the Web UI's
 * Schedules page; `temporal schedule trigger --schedule-id <prefix>-evidence-retention` runs it now.
 */
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import type { AppConfig } from '../config/app-config';
import { workflowTaskQueue } from '../config/task-queues';

export const RETENTION_EVERY: Duration = '1 day';

export function retentionScheduleId(config: Pick<AppConfig, 'taskQueuePrefix'>): string {
  return `${config.taskQueuePrefix}-evidence-retention`;
}

export async function ensureRetentionSchedule(
  client: Client,
  config: Pick<AppConfig, 'taskQueuePrefix'>,
  every: Duration = RETENTION_EVERY,
): Promise<string> {
  const scheduleId = retentionScheduleId(config);
  const options: ScheduleOptions = {
    scheduleId,
    spec: { intervals: [{ every }] },
    action: {
      type: 'startWorkflow',
      workflowType: 'evidenceRetention',
      workflowId: scheduleId,
      taskQueue: workflowTaskQueue(config),
      args: [],
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
  };
  try {
    await client.schedule.create(options);
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule
      .getHandle(scheduleId)
      .update((prev) => ({ ...prev, spec: options.spec, action: options.action }));
  }
  return scheduleId;
}
