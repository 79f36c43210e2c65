/**
 * Delivery of notifications to the integrator's endpoints, on the notifications task queue.
 *
 * - `verificationNotifications` (`notify:<verificationId>`): the verification's outbox. It takes the
 *   events in sequence order, asks which of the tenant's endpoints want each one, and keeps one queue
 *   per endpoint: one delivery at a time per endpoint (order), endpoints independent of each other.
 * - `deliverNotification` (`notify:<endpointId>:<eventId>`): one event to one endpoint, an activity
 *   per attempt on the schedule (immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, with jitter);
 *   429/502/504 slow down (Retry-After honoured), 410 disables the endpoint, a whole schedule of
 *   failures disables and flags it. Its memo carries the attempt log for GET /v1/webhook-deliveries.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  executeChild,
  getExternalWorkflowHandle,
  setHandler,
  sleep,
  upsertMemo,
  workflowInfo,
  log,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { TERMINAL_STATUSES } from './shared';
import type { createNotificationActivities } from '../activities/notifications';
import {
  DELIVERY_MEMO_KEY,
  DELIVERY_SCHEDULE_MS,
  deliveryWorkflowId,
  disableEndpointSignal,
  endpointRegistryWorkflowId,
  outboxEventSignal,
  type DeliveryInput,
  type DeliveryRecord,
  type NotificationEvent,
  type OutboxInput,
} from './notify-shared';
import { activitiesOn } from './activity-queues';

const { notificationEndpoints } = activitiesOn<ReturnType<typeof createNotificationActivities>>('notifications', {
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});
const { postNotification } = activitiesOn<ReturnType<typeof createNotificationActivities>>('notifications', {
  // The HTTP call itself times out at 15 s; the activity's own failures (worker lost) retry a few times.
  startToCloseTimeout: '20 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 5 },
});

/** A gap in the sequence (an event lost before it reached the outbox) is skipped after this long. */
const GAP_WAIT = '1 hour';
/** How long the outbox stays open once the verification ended and everything was delivered. */
const LINGER_AFTER_END = '1 day';

export async function verificationNotifications(input: OutboxInput): Promise<void> {
  const waiting: NotificationEvent[] = [...input.events];
  let next = input.nextSequence;
  let terminalSeen = false;
  // Late or repeated events (a hand-over retried after a continue-as-new) are ignored on purpose.
  setHandler(outboxEventSignal, (e) => {
    if (e.sequence >= next && !waiting.some((w) => w.sequence === e.sequence)) waiting.push(e);
  });

  const queues: Record<string, NotificationEvent[]> = {};
  const busy: Record<string, boolean> = {};
  const idle = () => Object.values(busy).every((b) => !b);
  const drainEndpoint = async (endpointId: string) => {
    busy[endpointId] = true;
    const queue = queues[endpointId]!;
    while (queue.length) {
      const event = queue[0]!;
      try {
        await executeChild(deliverNotification, {
          workflowId: deliveryWorkflowId(endpointId, event),
          args: [{ tenant: input.tenant, endpointId, event }],
        });
      } catch (err) {
        // Already delivering (a redelivery started by the API): that run delivers it. Anything else is logged.
        if (!(err instanceof WorkflowExecutionAlreadyStartedError))
          log.warn('delivery ended with an error', { eventId: event.id, error: (err as Error).name });
      }
      queue.shift();
    }
    busy[endpointId] = false;
  };

  for (;;) {
    const ready = () => waiting.some((e) => e.sequence === next);
    await condition(() => waiting.length > 0);
    const gotNext = await condition(ready, GAP_WAIT);
    if (!gotNext) next = Math.min(...waiting.map((e) => e.sequence)); // a gap that never filled
    const event = waiting.splice(
      waiting.findIndex((e) => e.sequence === next),
      1,
    )[0]!;
    next += 1;
    if (event.type === 'verification.completed') terminalSeen = true;
    // An erasure the API handed over after the verification closed (client/notify-after-close.ts) starts a
    // run that never sees `completed`: its data says the verification has ended.
    if (event.type === 'verification.personal_data_erased' && TERMINAL_STATUSES.includes(event.data.status))
      terminalSeen = true;
    for (const endpointId of await notificationEndpoints({ tenant: input.tenant, eventType: event.type })) {
      (queues[endpointId] ??= []).push(event);
      if (!busy[endpointId]) void drainEndpoint(endpointId);
    }
    // Done once the verification ended and everything was delivered; a late event starts a new run.
    await condition(() => ready() || (idle() && (terminalSeen || workflowInfo().continueAsNewSuggested)));
    if (ready()) continue;
    await condition(allHandlersFinished);
    // Late events (an attention flag, an erasure) within a day still find this run; after that, a new one.
    // (Also: the Java time-skipping server stops skipping time once an abandoned child completes.)
    if (terminalSeen && waiting.length === 0 && !(await condition(() => waiting.length > 0, LINGER_AFTER_END))) return;
    if (waiting.length === 0 || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof verificationNotifications>({ ...input, events: waiting, nextSequence: next });
    }
  }
}

/** Answers the record and the event (a redelivery reads the event from here). */
export async function deliverNotification(
  input: DeliveryInput,
): Promise<DeliveryRecord & { event: NotificationEvent }> {
  const { event, endpointId, tenant } = input;
  const schedule = input.scheduleMs ?? DELIVERY_SCHEDULE_MS;
  const record: DeliveryRecord = {
    tenant,
    endpointId,
    eventId: event.id,
    eventType: event.type,
    verificationId: event.data.verificationId,
    sequence: event.sequence,
    status: 'pending',
    attempts: [],
    nextAttemptAt: new Date().toISOString(),
  };
  const publish = () => upsertMemo({ [DELIVERY_MEMO_KEY]: record });
  const disable = (reason: string) =>
    getExternalWorkflowHandle(endpointRegistryWorkflowId(tenant))
      .signal(disableEndpointSignal, { id: endpointId, reason, flagged: true, at: new Date().toISOString() })
      .catch(() => undefined);
  publish();

  let slowDownMs = 0;
  let busyMs = 1_000;
  for (let i = 0; i < schedule.length;) {
    const planned = i === 0 ? 0 : jitter(schedule[i]!);
    const wait = Math.max(planned, slowDownMs);
    if (wait > 0) {
      record.nextAttemptAt = new Date(Date.now() + wait).toISOString();
      publish();
      await sleep(wait);
    }
    const result = await postNotification({ tenant, endpointId, event });
    if (result.outcome === 'busy') {
      // This worker already has the endpoint's share of deliveries in flight: wait, not counted as an attempt.
      slowDownMs = busyMs;
      busyMs = Math.min(busyMs * 2, 60_000);
      continue;
    }
    busyMs = 1_000;
    record.attempts.push(result.attempt!);
    i += 1;
    if (result.outcome === 'delivered') return { ...finish(record, 'delivered', publish), event };
    if (result.outcome === 'endpoint_disabled') return { ...finish(record, 'endpoint_disabled', publish), event };
    if (result.outcome === 'gone') {
      await disable('the endpoint answered 410 Gone');
      return { ...finish(record, 'endpoint_disabled', publish), event };
    }
    // 429/502/504: slow down. Retry-After when given (at most a day), else twice the next planned wait.
    slowDownMs = result.slowDown ? Math.min(result.retryAfterMs ?? 2 * (schedule[i] ?? 0), 86_400_000) : 0;
  }
  await disable('failing for the whole retry schedule');
  return { ...finish(record, 'failed', publish), event };
}

function finish(record: DeliveryRecord, status: DeliveryRecord['status'], publish: () => void): DeliveryRecord {
  record.status = status;
  record.nextAttemptAt = null;
  publish();
  return record;
}

/** ±20 %, from the workflow's deterministic random. */
function jitter(ms: number): number {
  return Math.round(ms * (0.8 + 0.4 * Math.random()));
}
