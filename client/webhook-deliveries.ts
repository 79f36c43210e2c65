/**
 * `/v1/webhook-deliveries`: the delivery log (one entry per delivery workflow run, read from its memo
 * through Temporal's visibility) and redelivery (a new run of `notify:<endpointId>:<eventId>` with
 * the same event: same `webhook-id`, so a receiver that already has it drops it).
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { WorkflowNotFoundError, type Client, type WorkflowExecutionInfo } from '@temporalio/client';
import type { AppConfig } from '../config/app-config';
import { workflowTaskQueue } from '../config/task-queues';
import {
  DELIVERY_MEMO_KEY,
  deliveryWorkflowId,
  EVENT_TYPES,
  type DeliveryRecord,
  type NotificationEvent,
} from '../workflows/notify-shared';
import { parseVerificationId } from '../workflows/shared';
import { ApiError, notFound } from './api-error';
import { errorSchema } from './schemas';
import { endpointsOf, tenantOf } from './webhook-endpoints';

const deliverySchema = z.object({
  deliveryId: z
    .string()
    .describe('The delivery workflow id (notify:<endpointId>:<eventId>), as shown in the Temporal Web UI'),
  runId: z.string(),
  endpointId: z.string(),
  eventId: z.string(),
  eventType: z.enum(EVENT_TYPES),
  verificationId: z.string(),
  sequence: z.number().int(),
  status: z.enum(['pending', 'delivered', 'failed', 'endpoint_disabled']),
  attempts: z.array(
    z.object({
      at: z.string(),
      statusCode: z.number().int().nullable(),
      latencyMs: z.number(),
      error: z.string().optional(),
    }),
  ),
  nextAttemptAt: z.string().nullable(),
  startedAt: z.string(),
});

const MAX_LIST = 200;
const MAX_REDELIVER = 100;

export function registerWebhookDeliveryRoutes(app: FastifyInstance, deps: { client: Client; config: AppConfig }): void {
  const { client, config } = deps;
  const r = app.withTypeProvider<ZodTypeProvider>();

  async function ownedEndpoint(tenant: string, endpointId: string) {
    const e = (await endpointsOf(client, tenant)).find((x) => x.id === endpointId);
    if (!e) throw notFound('webhook endpoint');
    return e;
  }

  async function list(query: string, limit: number): Promise<WorkflowExecutionInfo[]> {
    const out: WorkflowExecutionInfo[] = [];
    for await (const w of client.workflow.list({ query, pageSize: Math.min(limit, 100) })) {
      out.push(w);
      if (out.length >= limit) break;
    }
    return out;
  }

  const prefixQuery = (prefix: string, extra = '') =>
    `WorkflowType = 'deliverNotification' AND WorkflowId STARTS_WITH '${prefix}'${extra}`;

  r.get(
    '/v1/webhook-deliveries',
    {
      schema: {
        summary:
          'The delivery log: attempts, status codes, latencies and the next attempt, per endpoint and/or per verification',
        tags: ['notifications'],
        security: [{ bearer: [] }],
        querystring: z
          .object({
            endpointId: z.string().max(40).optional(),
            verificationId: z.string().max(200).optional(),
            limit: z.coerce.number().int().min(1).max(MAX_LIST).default(50),
          })
          .strict()
          .refine((q) => q.endpointId || q.verificationId, 'give endpointId, verificationId or both'),
        response: { 200: z.object({ data: z.array(deliverySchema) }), 400: errorSchema, 404: errorSchema },
      },
    },
    async (req) => {
      const tenant = tenantOf(req);
      const { endpointId, verificationId, limit } = req.query;
      if (verificationId && !parseVerificationId(verificationId)) throw notFound('verification');
      const endpoints = endpointId ? [await ownedEndpoint(tenant, endpointId)] : await endpointsOf(client, tenant);
      const rows: z.infer<typeof deliverySchema>[] = [];
      for (const e of endpoints) {
        const prefix = `notify:${e.id}:${verificationId ? `${verificationId}:` : ''}`;
        for (const w of await list(prefixQuery(prefix), limit)) {
          const rec = w.memo?.[DELIVERY_MEMO_KEY] as DeliveryRecord | undefined;
          if (!rec || rec.tenant !== tenant) continue;
          rows.push({
            deliveryId: w.workflowId,
            runId: w.runId,
            endpointId: rec.endpointId,
            eventId: rec.eventId,
            eventType: rec.eventType,
            verificationId: rec.verificationId,
            sequence: rec.sequence,
            status: rec.status,
            attempts: rec.attempts,
            nextAttemptAt: rec.nextAttemptAt,
            startedAt: w.startTime.toISOString(),
          });
        }
      }
      rows.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
      return { data: rows.slice(0, limit) };
    },
  );

  r.post(
    '/v1/webhook-deliveries/redeliver',
    {
      schema: {
        summary: 'Deliver again: one event, or every event not delivered since a time',
        description:
          'The event is sent again with the same webhook-id (receivers drop duplicates by it). A delivery still retrying answers 409: it is already on its way.',
        tags: ['notifications'],
        security: [{ bearer: [] }],
        body: z
          .object({
            endpointId: z.string().max(40),
            eventId: z.string().max(220).optional(),
            since: z.iso.datetime({ offset: true }).optional(),
          })
          .strict()
          .refine((b) => Boolean(b.eventId) !== Boolean(b.since), 'give exactly one of eventId and since'),
        response: {
          202: z.object({
            redelivered: z.array(z.object({ deliveryId: z.string(), eventId: z.string(), runId: z.string() })),
          }),
          400: errorSchema,
          404: errorSchema,
          409: errorSchema,
        },
      },
    },
    async (req, reply) => {
      const tenant = tenantOf(req);
      const { endpointId, eventId, since } = req.body;
      const endpoint = await ownedEndpoint(tenant, endpointId);
      if (!endpoint.enabled)
        throw new ApiError(409, 'endpoint_disabled', 'the endpoint is disabled: enable it first (PATCH enabled=true)');

      const redeliver = async (workflowId: string, runId?: string) => {
        const last = client.workflow.getHandle(workflowId, runId);
        const done = (await last.result()) as DeliveryRecord & { event: NotificationEvent };
        if (done.tenant !== tenant) throw notFound('delivery');
        const run = await client.workflow.start('deliverNotification', {
          workflowId,
          taskQueue: workflowTaskQueue(config),
          args: [{ tenant, endpointId, event: done.event }],
        });
        return { deliveryId: workflowId, eventId: done.event.id, runId: run.firstExecutionRunId };
      };

      if (eventId) {
        const workflowId = deliveryWorkflowId(endpointId, { id: eventId });
        let status: string;
        try {
          status = (await client.workflow.getHandle(workflowId).describe()).status.name;
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) throw notFound('delivery');
          throw err;
        }
        if (status === 'RUNNING')
          throw new ApiError(409, 'conflict', 'this event is being delivered (see nextAttemptAt in the delivery log)');
        return reply.code(202).send({ redelivered: [await redeliver(workflowId)] });
      }

      // Every event whose latest delivery since `since` did not arrive.
      const runs = await list(
        prefixQuery(`notify:${endpointId}:`, ` AND StartTime >= '${new Date(since!).toISOString()}'`),
        1000,
      );
      const latest = new Map<string, WorkflowExecutionInfo>();
      for (const w of runs)
        if ((latest.get(w.workflowId)?.startTime ?? new Date(0)) < w.startTime) latest.set(w.workflowId, w);
      const failed = [...latest.values()].filter((w) => {
        const rec = w.memo?.[DELIVERY_MEMO_KEY] as DeliveryRecord | undefined;
        return (
          w.status.name !== 'RUNNING' &&
          rec?.tenant === tenant &&
          (rec.status === 'failed' || rec.status === 'endpoint_disabled')
        );
      });
      const out = [];
      for (const w of failed.slice(0, MAX_REDELIVER)) out.push(await redeliver(w.workflowId, w.runId));
      return reply.code(202).send({ redelivered: out });
    },
  );
}
