/**
 * Notifications to the integrator's backend (README "Notifications to your backend"): the event
 * shape, the endpoint registry's shape, the workflow IDs and the messages shared by the verification
 * tracker, the delivery workflows, the activities and the API.
 *
 * Imported by workflow code, so it must stay deterministic: no Node APIs, no I/O.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { EvidenceRef, NextAction, Provider, VerificationOutcome, VerificationStatus } from './shared';

export const EVENT_TYPES = [
  'verification.created',
  'verification.action_required',
  'verification.completed',
  'verification.attention',
  'verification.personal_data_erased',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

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

/** The body POSTed to the endpoint (Standard Webhooks: `type`, `timestamp`, `data`), plus our id and order. */
export interface NotificationEvent {
  /** Stable across retries and redeliveries (`<verificationId>:<sequence>`); also the `webhook-id`. */
  id: string;
  type: EventType;
  /** When the event happened (workflow time), ISO 8601. */
  timestamp: string;
  /** 1, 2, 3… per verification: a receiver drops ids it has seen and orders by this. */
  sequence: number;
  data: EventData;
}

export function eventId(verificationId: string, sequence: number): string {
  return `${verificationId}:${sequence}`;
}

// --- The per-verification outbox: orders a verification's events and fans them out per endpoint. ---

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

export interface DeliveryAttempt {
  at: string;
  /** HTTP status, or null when there was no answer (refused, timeout, SSRF refusal). */
  statusCode: number | null;
  latencyMs: number;
  /** Why it failed, in words (never the response body). */
  error?: string;
}

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

export interface EndpointSecret {
  /** `whsec_<base64>`. */
  secret: string;
  createdAt: string;
  /** Set when a newer secret replaced it: deliveries sign with it too until then. */
  expiresAt: string | null;
}

export interface WebhookEndpoint {
  id: string;
  url: string;
  description: string | null;
  /** Event types delivered; empty = all. */
  eventTypes: EventType[];
  enabled: boolean;
  /** Why it was disabled (`disabled by the caller`, `410 Gone`, `failing for the whole retry schedule`). */
  disabledReason: string | null;
  /** Set when delivery disabled the endpoint: an operator or the integrator must look. */
  flagged: boolean;
  secrets: EndpointSecret[];
  createdAt: string;
  updatedAt: string;
}

export interface EndpointRegistryState {
  tenant: string;
  endpoints: WebhookEndpoint[];
}

export const endpointRegistryWorkflowId = (tenant: string) => `webhook-endpoints:${tenant}`;

export interface EndpointChange {
  url?: string;
  description?: string | null;
  eventTypes?: EventType[];
  enabled?: boolean;
}

/** The full registry (secrets included): for activities and the API, which strips the secrets. */
export const endpointsQuery = defineQuery<EndpointRegistryState>('endpoints');
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

/** The secrets that sign a delivery made at `now`: the current one, plus rotated ones still in their overlap. */
export function signingSecrets(endpoint: WebhookEndpoint, now: number): string[] {
  return endpoint.secrets.filter((s) => s.expiresAt === null || Date.parse(s.expiresAt) > now).map((s) => s.secret);
}
