/**
 * Notifications to the integrator's backend (README "Notifications to your backend"): the event
 * shape, the endpoint registry's shape, the workflow IDs and the messages shared by the verification
 * tracker, the delivery workflows, the activities and the API.
 *
 * Imported by workflow code, so it must stay deterministic: no Node APIs, no I/O.
 */
import { defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  DeliveryAttempt,
  EventType,
  NotificationEvent as EventEnvelope,
  WebhookEndpoint,
} from '../activities/notification-types';
import type { EvidenceRef, NextAction, Provider, VerificationOutcome, VerificationStatus } from './shared';

export {
  EVENT_TYPES,
  endpointRegistryWorkflowId,
  endpointsQuery,
  eventId,
  signingSecrets,
  type DeliveryAttempt,
  type EndpointRegistryState,
  type EndpointSecret,
  type EventType,
  type WebhookEndpoint,
} from '../activities/notification-types';

/** What an event says about its verification: ids, statuses, references. Never personal data. */
export interface EventData {
  verificationId: string;
  provider: Provider;
  reference: string;
  providerReference: string | null;
  status: VerificationStatus;
  outcome: VerificationOutcome | null;
  reason: string | null;
  nextAction: NextAction;
  /** Evidence references (kind, sha256, size): the bytes stay in the evidence store. */
  evidence: Pick<EvidenceRef, 'kind' | 'ref' | 'sha256' | 'size' | 'contentType'>[];
  /** The VerificationAttention code, when one is set. */
  attention: string | null;
}

// --- The per-verification outbox: orders a verification's events and fans them out per endpoint. ---

/** The body POSTed to the endpoint, with what it says about its verification. */
export type NotificationEvent = EventEnvelope<EventData>;

export interface OutboxInput {
  tenant: string;
  verificationId: string;
  /** Events not yet delivered (the first run: `verification.created`; a continued run: what was pending). */
  events: NotificationEvent[];
  /** The next sequence number to hand out to endpoints (events are delivered in this order). */
  nextSequence: number;
}

export const outboxWorkflowId = (verificationId: string) => `notify:${verificationId}`;
export const outboxEventSignal = defineSignal<[NotificationEvent]>('notificationEvent');

// --- One event to one endpoint: its own workflow, so the Web UI shows each delivery by name. ---

export interface DeliveryInput {
  tenant: string;
  endpointId: string;
  event: NotificationEvent;
  /** Test-only: a shorter schedule. Default: the production schedule over about 3 days. */
  scheduleMs?: number[];
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'endpoint_disabled';

/** Published in the delivery workflow's memo after every attempt, read by GET /v1/webhook-deliveries. */
export interface DeliveryRecord {
  tenant: string;
  endpointId: string;
  eventId: string;
  eventType: EventType;
  verificationId: string;
  sequence: number;
  status: DeliveryStatus;
  attempts: DeliveryAttempt[];
  nextAttemptAt: string | null;
}

export const DELIVERY_MEMO_KEY = 'delivery';

/** `notify:<endpointId>:<eventId>`; a redelivery is a new run of the same id. */
export const deliveryWorkflowId = (endpointId: string, event: { id: string }) => `notify:${endpointId}:${event.id}`;

/** Immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: the last attempt about 27.5 h in, then a 3-day horizon ends. */
export const DELIVERY_SCHEDULE_MS = [0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];

// --- The endpoint registry: one entity workflow per tenant. ---

export interface EndpointChange {
  url?: string;
  description?: string | null;
  eventTypes?: EventType[];
  enabled?: boolean;
}

/** The API mints id, secret and time (the workflow holds no randomness); refused on a duplicate id. */
export const createEndpointUpdate = defineUpdate<
  WebhookEndpoint,
  [{ id: string; url: string; description: string | null; eventTypes: EventType[]; secret: string; at: string }]
>('createEndpoint');
export const changeEndpointUpdate = defineUpdate<WebhookEndpoint, [{ id: string; change: EndpointChange; at: string }]>(
  'changeEndpoint',
);
/** The new secret signs from now on; the previous ones keep signing until `at + overlapMs`. */
export const rotateSecretUpdate = defineUpdate<
  WebhookEndpoint,
  [{ id: string; secret: string; overlapMs: number; at: string }]
>('rotateSecret');
/** Sent by a delivery workflow: 410 Gone, or the whole retry schedule failed. */
export const disableEndpointSignal =
  defineSignal<[{ id: string; reason: string; flagged: boolean; at: string }]>('disableEndpoint');
