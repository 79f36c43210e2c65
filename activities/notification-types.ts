/**
 * Notifications to the integrator's backend: what the delivery activities and the workflows share
 * (event types, the event envelope, the endpoint registry's shape and its query, the signing secrets).
 * The bottom of the notification modules: no Node APIs, no I/O, so the workflow bundle imports it too
 * (through workflows/notify-shared.ts, which adds what only workflows and the API need).
 */
import { defineQuery } from '@temporalio/workflow';

export const EVENT_TYPES = [
  'verification.created',
  'verification.action_required',
  'verification.completed',
  'verification.attention',
  'verification.personal_data_erased',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The body POSTed to the endpoint (Standard Webhooks: `type`, `timestamp`, `data`), plus our id and order. */
export interface NotificationEvent<Data = unknown> {
  /** Stable across retries and redeliveries (`<verificationId>:<sequence>`); also the `webhook-id`. */
  id: string;
  type: EventType;
  /** When the event happened (workflow time), ISO 8601. */
  timestamp: string;
  /** 1, 2, 3… per verification: a receiver drops ids it has seen and orders by this. */
  sequence: number;
  /** What the event says about its verification (workflows/notify-shared.ts EventData). */
  data: Data;
}

export function eventId(verificationId: string, sequence: number): string {
  return `${verificationId}:${sequence}`;
}

export interface DeliveryAttempt {
  at: string;
  /** HTTP status, or null when there was no answer (refused, timeout, SSRF refusal). */
  statusCode: number | null;
  latencyMs: number;
  /** Why it failed, in words (never the response body). */
  error?: string;
}

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

/** The full registry (secrets included): for activities and the API, which strips the secrets. */
export const endpointsQuery = defineQuery<EndpointRegistryState>('endpoints');
/** The secrets that sign a delivery made at `now`: the current one, plus rotated ones still in their overlap. */
export function signingSecrets(endpoint: WebhookEndpoint, now: number): string[] {
  return endpoint.secrets.filter((s) => s.expiresAt === null || Date.parse(s.expiresAt) > now).map((s) => s.secret);
}
