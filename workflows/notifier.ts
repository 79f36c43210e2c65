/**
 * The verification workflow's side of notifications: it records each event once (a stable id and a
 * sequence number) and hands it to the verification's outbox workflow, `notify:<verificationId>`.
 *
 * Why an outbox child (started with parentClosePolicy ABANDON, then signalled) rather than one child
 * per event or delivery inside the verification:
 * - Delivery never delays or fails the verification: handing an event over is one command that
 *   does not wait for any endpoint, and nothing here throws into the vendor flow.
 * - Order per verification: the outbox delivers a verification's events in sequence order to each
 *   endpoint (one delivery at a time per endpoint), so a receiver down for hours gets them in order
 *   once it is back. Independent children per event would race each other's retry timers.
 * - History size: the verification's history grows by a signal per event (a handful per case); the
 *   retries, timers and attempt logs live in the delivery workflows' histories.
 * The outbox runs on the notifications task queue, so deliveries never take a vendor worker's slot.
 *
 * Only workflows started with the `notifications` memo (the API sets it: the tenant and the task
 * queue) notify; a workflow started without it (a test, a start by hand) records no events.
 *
 * A cancel from Temporal (Web UI, `temporal workflow cancel`) cancels the verification's scope. Every
 * hand-over runs non-cancellable, so the cancel reaches neither the outbox (started there, the SDK
 * never asks to cancel it) nor the hand-over of the events recorded as the flow ends cancelled: the
 * integrator is told, and the outbox keeps its pending deliveries.
 */
import {
  CancellationScope,
  getExternalWorkflowHandle,
  ParentClosePolicy,
  startChild,
  workflowInfo,
  log,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { apiVerificationId, tenantWorkflowId, type VerificationState } from './shared';
import {
  outboxEventSignal,
  outboxWorkflowId,
  eventId,
  type EventData,
  type EventType,
  type NotificationEvent,
} from './notify-shared';

/** The memo key the API sets at start: `{ tenant, taskQueue }`. */
export const NOTIFICATIONS_MEMO_KEY = 'notifications';

/** Every hand-over of this workflow, chained: awaited before the workflow closes (see notify-drain.ts). */
let handedOver: Promise<void> = Promise.resolve();
export function notificationsHandedOver(): Promise<void> {
  return handedOver;
}

export class Notifier {
  private outboxRunning = false;

  private constructor(
    readonly tenant: string,
    readonly taskQueue: string,
  ) {}

  /** The notifier of this workflow, or null when it was started without the memo. */
  static fromMemo(): Notifier | null {
    const memo = workflowInfo().memo?.[NOTIFICATIONS_MEMO_KEY] as { tenant?: unknown; taskQueue?: unknown } | undefined;
    if (typeof memo?.tenant !== 'string' || typeof memo.taskQueue !== 'string' || !memo.tenant || !memo.taskQueue)
      return null;
    return new Notifier(memo.tenant, memo.taskQueue);
  }

  emit(sequence: number, type: EventType, data: EventData): NotificationEvent {
    const event: NotificationEvent = {
      id: eventId(data.verificationId, sequence),
      type,
      timestamp: new Date().toISOString(),
      sequence,
      data,
    };
    // One hand-over at a time, in order (the outbox reorders anyway); a failure is logged, never thrown into the flow.
    handedOver = handedOver.then(() =>
      this.handOver(event).catch((err) =>
        log.warn('notification not handed over', { eventId: event.id, error: (err as Error).name }),
      ),
    );
    return event;
  }

  // Not async: no extra await, so the hand-over's commands keep their place among the activation's other
  // commands. Non-cancellable: a cancel from Temporal cancels this workflow's scope, and a signal or a start
  // in it (one already under way as the cancel lands, or the last event's) would fail at once.
  private handOver(event: NotificationEvent): Promise<void> {
    return CancellationScope.nonCancellable(() => this.deliver(event));
  }

  private async deliver(event: NotificationEvent): Promise<void> {
    // The outbox is per tenant's verification (two tenants may use the same reference).
    const workflowId = outboxWorkflowId(tenantWorkflowId(this.tenant, event.data.verificationId));
    if (this.outboxRunning) {
      try {
        await getExternalWorkflowHandle(workflowId).signal(outboxEventSignal, event);
        return;
      } catch {
        this.outboxRunning = false; // it finished (all delivered): start a new run with this event
      }
    }
    try {
      await startChild('verificationNotifications', {
        workflowId,
        taskQueue: this.taskQueue,
        parentClosePolicy: ParentClosePolicy.ABANDON,
        args: [
          {
            tenant: this.tenant,
            verificationId: event.data.verificationId,
            events: [event],
            nextSequence: event.sequence,
          },
        ],
      });
    } catch (err) {
      // A run from before a continue-as-new of this workflow is still delivering: give it the event.
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      await getExternalWorkflowHandle(workflowId).signal(outboxEventSignal, event);
    }
    this.outboxRunning = true;
  }
}

/** What an event carries: ids, statuses, references. Never personal data (facts and timeline stay out). */
export function eventData(s: VerificationState): EventData {
  return {
    // The id the integrator knows (`provider:reference`), never the tenant-scoped workflow id.
    verificationId: apiVerificationId(s.id),
    provider: s.provider,
    reference: s.reference,
    providerReference: s.providerReference,
    status: s.status,
    outcome: s.outcome,
    reason: s.reason,
    nextAction: s.nextAction,
    evidence: s.evidence.map((e) => ({
      kind: e.kind,
      ref: e.ref,
      sha256: e.sha256,
      size: e.size,
      contentType: e.contentType,
    })),
    attention: typeof s.facts.attention === 'string' ? s.facts.attention : null,
  };
}
