/**
 * Notifications for a verification whose workflow has closed. An erasure can come long after the end
 * (the workflow is no longer there to record the event), so the API hands the
 * `verification.personal_data_erased` event to the verification's outbox itself: the next sequence
 * number after the last one the workflow recorded, the same outbox workflow id (signal-with-start, so a
 * run still lingering after the end takes it, or a new run delivers it). Its id is stable
 * (`<verificationId>:<sequence>`): erasing twice hands over the same event, which the outbox and
 * receivers drop as a duplicate.
 */
import type { Client } from '@temporalio/client';
import { NOTIFICATIONS_MEMO_KEY, eventData } from '../workflows/notifier';
import {
  eventId,
  outboxEventSignal,
  outboxWorkflowId,
  type EventType,
  type NotificationEvent,
} from '../workflows/notify-shared';
import type { VerificationState } from '../workflows/shared';

/** Hands one event over; false when the verification was started without notifications (older flows). */
export async function notifyAfterClose(
  client: Client,
  workflowId: string,
  state: VerificationState,
  type: EventType,
): Promise<boolean> {
  const memo = (await client.workflow.getHandle(workflowId).describe()).memo?.[NOTIFICATIONS_MEMO_KEY] as
    { tenant?: unknown; taskQueue?: unknown } | undefined;
  if (typeof memo?.tenant !== 'string' || typeof memo.taskQueue !== 'string') return false;
  const data = eventData(state);
  const sequence = (state.notificationSequence ?? 0) + 1;
  const event: NotificationEvent = {
    id: eventId(data.verificationId, sequence),
    type,
    timestamp: new Date().toISOString(),
    sequence,
    data,
  };
  await client.workflow.signalWithStart('verificationNotifications', {
    workflowId: outboxWorkflowId(workflowId),
    taskQueue: memo.taskQueue,
    signal: outboxEventSignal,
    signalArgs: [event],
    args: [{ tenant: memo.tenant, verificationId: data.verificationId, events: [], nextSequence: sequence }],
  });
  return true;
}
