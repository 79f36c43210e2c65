/**
 * Notification activities, on the notifications task queue: which endpoints want an event, and one
 * signed POST per attempt (Standard Webhooks, signed with the `standardwebhooks` library).
 *
 * The endpoint is read from the tenant's registry workflow at each attempt, so a rotated secret, a
 * changed URL or a disabled endpoint take effect on the next try. The signature covers
 * `webhook-id.webhook-timestamp.body` of the exact bytes sent: the id is the event's (fixed across
 * retries), the timestamp this attempt's; during a rotation every still-valid secret signs.
 * Outcomes are values (the workflow keeps the schedule and the attempt log); only the activity's
 * own failures (registry unreachable, worker lost) are thrown and retried by Temporal.
 */
import http from 'node:http';
import https from 'node:https';
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { Webhook } from 'standardwebhooks';
import {
  endpointRegistryWorkflowId,
  endpointsQuery,
  signingSecrets,
  type DeliveryAttempt,
  type EventType,
  type NotificationEvent,
  type WebhookEndpoint,
} from './notification-types';
import { assertPublicEndpoint, safeLookup } from './ssrf';

export interface NotificationActivityDeps {
  /** Outside development, endpoints must be HTTPS and resolve to public addresses only. */
  production: boolean;
  /** Per worker: a slow endpoint never holds more than this many delivery slots (the others stay free for other tenants). */
  maxInFlightPerEndpoint: number;
}

export interface PostResult {
  outcome: 'delivered' | 'gone' | 'retry' | 'endpoint_disabled' | 'busy';
  attempt?: DeliveryAttempt;
  /** 429/502/504: the endpoint asks us to slow down. */
  slowDown?: boolean;
  retryAfterMs?: number;
}

/** Each attempt's HTTP time limit (Standard Webhooks suggests 15-30 s). */
export const ATTEMPT_TIMEOUT_MS = 15_000;

export function createNotificationActivities(deps: NotificationActivityDeps) {
  const inFlight = new Map<string, number>();

  async function endpointsOf(tenant: string): Promise<WebhookEndpoint[]> {
    try {
      return (
        await Context.current().client.workflow.getHandle(endpointRegistryWorkflowId(tenant)).query(endpointsQuery)
      ).endpoints;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return []; // a tenant that never registered an endpoint
      throw err;
    }
  }

  return {
    async notificationEndpoints({ tenant, eventType }: { tenant: string; eventType: EventType }): Promise<string[]> {
      return (await endpointsOf(tenant))
        .filter((e) => e.enabled && (e.eventTypes.length === 0 || e.eventTypes.includes(eventType)))
        .map((e) => e.id);
    },

    async postNotification({
      tenant,
      endpointId,
      event,
    }: {
      tenant: string;
      endpointId: string;
      event: NotificationEvent;
    }): Promise<PostResult> {
      const endpoint = (await endpointsOf(tenant)).find((e) => e.id === endpointId);
      if (!endpoint?.enabled)
        return {
          outcome: 'endpoint_disabled',
          attempt: {
            at: new Date().toISOString(),
            statusCode: null,
            latencyMs: 0,
            error: 'endpoint disabled or removed',
          },
        };
      const running = inFlight.get(endpointId) ?? 0;
      if (running >= deps.maxInFlightPerEndpoint) return { outcome: 'busy' };
      inFlight.set(endpointId, running + 1);
      const started = Date.now();
      const failed = (error: string): PostResult => ({
        outcome: 'retry',
        attempt: { at: new Date(started).toISOString(), statusCode: null, latencyMs: Date.now() - started, error },
      });
      try {
        if (deps.production) {
          if (new URL(endpoint.url).protocol !== 'https:') return failed('endpoint is not https');
          await assertPublicEndpoint(endpoint.url); // literal IPs (no lookup happens for them) and a first answer
        }
        const body = JSON.stringify(event);
        const now = new Date();
        const signature = signingSecrets(endpoint, now.getTime())
          .map((secret) => new Webhook(secret).sign(event.id, now, body))
          .join(' ');
        const res = await post(
          endpoint.url,
          body,
          {
            'content-type': 'application/json',
            'user-agent': 'idv-orchestrator-notifications/1',
            'webhook-id': event.id,
            'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
            'webhook-signature': signature,
          },
          deps.production,
        );
        const attempt: DeliveryAttempt = {
          at: now.toISOString(),
          statusCode: res.status,
          latencyMs: Date.now() - started,
        };
        if (res.status >= 200 && res.status < 300) return { outcome: 'delivered', attempt };
        if (res.status === 410) return { outcome: 'gone', attempt: { ...attempt, error: '410 Gone' } };
        const slowDown = res.status === 429 || res.status === 502 || res.status === 504;
        return {
          outcome: 'retry',
          attempt: { ...attempt, error: `HTTP ${res.status}` },
          slowDown,
          ...(slowDown && res.retryAfterMs !== undefined ? { retryAfterMs: res.retryAfterMs } : {}),
        };
      } catch (err) {
        return failed(describe(err));
      } finally {
        inFlight.set(endpointId, (inFlight.get(endpointId) ?? 1) - 1);
      }
    },
  };
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.name === 'UnsafeEndpointError') return e.message;
  if (e.name === 'AbortError' || e.code === 'ABORT_ERR') return `no answer within ${ATTEMPT_TIMEOUT_MS / 1000} s`;
  return e.code ?? e.name ?? 'request failed';
}

/** One POST; the body of the answer is read and dropped (never logged: it is the integrator's). */
function post(
  url: string,
  body: string,
  headers: Record<string, string>,
  production: boolean,
): Promise<{ status: number; retryAfterMs?: number }> {
  const target = new URL(url);
  const lib = target.protocol === 'https:' ? https : http;
  const signal = AbortSignal.any([AbortSignal.timeout(ATTEMPT_TIMEOUT_MS), Context.current().cancellationSignal]);
  return new Promise((resolve, reject) => {
    const req = lib.request(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        signal,
        ...(production ? { lookup: safeLookup } : {}),
      },
      (res) => {
        res.on('data', () => undefined);
        res.on('error', reject);
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, retryAfterMs: retryAfter(res.headers['retry-after']) }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** `Retry-After`: seconds or an HTTP date. */
function retryAfter(value: string | undefined): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
