/**
 * `/v1/webhook-endpoints`: a tenant's notification endpoints (docs/notifications.md#endpoints). The registry is the tenant's entity workflow (workflows/webhook-endpoints.ts); the API
 * mints ids and secrets and checks URLs, the workflow serializes the changes.
 *
 * A secret (`whsec_…`) is shown once: in the answer to create and to rotate-secret.
 */
import crypto from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { AppConfig } from '../config/app-config';
import { workflowTaskQueue } from '../config/task-queues';
import {
  changeEndpointUpdate,
  createEndpointUpdate,
  endpointRegistryWorkflowId,
  endpointsQuery,
  EVENT_TYPES,
  rotateSecretUpdate,
  type WebhookEndpoint,
} from '../workflows/notify-shared';
import { assertPublicEndpoint, UnsafeEndpointError } from '../activities/ssrf';
import { ApiError, notFound } from './api-error';
import { errorSchema } from './schemas';

/** The tenant of an authenticated request (set by the v1 auth hook, client/app.ts). */
export function tenantOf(req: FastifyRequest): string {
  const tenant = req.principal?.tenant;
  if (!tenant) throw new ApiError(401, 'unauthorized', 'missing or invalid bearer API key');
  return tenant;
}

export const endpointSchema = z.object({
  id: z.string(),
  url: z.string(),
  description: z.string().nullable(),
  eventTypes: z.array(z.enum(EVENT_TYPES)).describe('Event types delivered; empty = all'),
  enabled: z.boolean(),
  disabledReason: z.string().nullable(),
  flagged: z.boolean().describe('Disabled by delivery (410 Gone, or failing for the whole retry schedule)'),
  secretsInOverlap: z.number().int().describe('Older secrets still signing until their overlap ends'),
  createdAt: z.string(),
  updatedAt: z.string(),
});
const withSecret = endpointSchema.extend({ secret: z.string().describe('whsec_…: shown only in this answer') });

// zod runs the refinement even after .url() failed: it must not throw on what is not a URL.
const url = z
  .string()
  .max(2000)
  .url()
  .refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), 'must be an http(s) URL');
const eventTypes = z.array(z.enum(EVENT_TYPES)).max(EVENT_TYPES.length);
const idParams = z.object({ id: z.string().regex(/^ep_[a-f0-9]{16}$/, 'is not an endpoint id') });

export function view(e: WebhookEndpoint): z.infer<typeof endpointSchema> {
  return {
    id: e.id,
    url: e.url,
    description: e.description,
    eventTypes: e.eventTypes,
    enabled: e.enabled,
    disabledReason: e.disabledReason,
    flagged: e.flagged,
    secretsInOverlap: e.secrets.filter((s) => s.expiresAt !== null && Date.parse(s.expiresAt) > Date.now()).length,
    createdAt: e.createdAt,
    updatedAt: e.updatedAt,
  };
}

const newSecret = () => `whsec_${crypto.randomBytes(24).toString('base64')}`;

/** The tenant's endpoints (secrets included: callers strip them). */
export async function endpointsOf(client: Client, tenant: string): Promise<WebhookEndpoint[]> {
  try {
    return (await client.workflow.getHandle(endpointRegistryWorkflowId(tenant)).query(endpointsQuery)).endpoints;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return [];
    throw err;
  }
}

export function registerWebhookEndpointRoutes(app: FastifyInstance, deps: { client: Client; config: AppConfig }): void {
  const { client, config } = deps;
  const r = app.withTypeProvider<ZodTypeProvider>();
  const production = config.env === 'production';

  async function checkUrl(u: string): Promise<void> {
    if (!production) return;
    if (new URL(u).protocol !== 'https:')
      throw new ApiError(422, 'unsafe_endpoint', 'endpoints must be https outside development');
    try {
      await assertPublicEndpoint(u);
    } catch (err) {
      if (err instanceof UnsafeEndpointError) throw new ApiError(422, 'unsafe_endpoint', err.message);
      throw err;
    }
  }

  /** Runs an update on the tenant's registry; `start` creates the registry on first use. */
  async function update<A>(
    tenant: string,
    def: UpdateDefinition<WebhookEndpoint, [A]>,
    arg: A,
    start = false,
  ): Promise<WebhookEndpoint> {
    const handle = client.workflow.getHandle(endpointRegistryWorkflowId(tenant));
    const run = () => handle.executeUpdate(def, { args: [arg] });
    try {
      return await run();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError && start) {
        await client.workflow
          .start('webhookEndpoints', {
            workflowId: handle.workflowId,
            taskQueue: workflowTaskQueue(config),
            args: [{ tenant, endpoints: [] }],
          })
          .catch((e) => {
            if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
          });
        return run();
      }
      if (err instanceof WorkflowNotFoundError) throw notFound('webhook endpoint');
      if (err instanceof WorkflowUpdateFailedError) {
        const msg = err.cause?.message ?? '';
        if (msg.startsWith('no endpoint')) throw notFound('webhook endpoint');
        throw new ApiError(409, 'conflict', msg || 'refused');
      }
      throw err;
    }
  }

  r.post(
    '/v1/webhook-endpoints',
    {
      schema: {
        summary: 'Register an endpoint for notifications (the signing secret is shown once, in this answer)',
        tags: ['notifications'],
        security: [{ bearer: [] }],
        body: z
          .object({ url, description: z.string().max(200).optional(), eventTypes: eventTypes.optional() })
          .strict(),
        response: { 201: withSecret, 400: errorSchema, 401: errorSchema, 409: errorSchema, 422: errorSchema },
      },
    },
    async (req, reply) => {
      await checkUrl(req.body.url);
      const secret = newSecret();
      const e = await update(
        tenantOf(req),
        createEndpointUpdate,
        {
          id: `ep_${crypto.randomBytes(8).toString('hex')}`,
          url: req.body.url,
          description: req.body.description ?? null,
          eventTypes: req.body.eventTypes ?? [],
          secret,
          at: new Date().toISOString(),
        },
        true,
      );
      return reply.code(201).send({ ...view(e), secret });
    },
  );

  r.get(
    '/v1/webhook-endpoints',
    {
      schema: {
        summary: "List the tenant's notification endpoints",
        tags: ['notifications'],
        security: [{ bearer: [] }],
        response: { 200: z.object({ data: z.array(endpointSchema) }), 401: errorSchema },
      },
    },
    async (req) => ({ data: (await endpointsOf(client, tenantOf(req))).map(view) }),
  );

  r.get(
    '/v1/webhook-endpoints/:id',
    {
      schema: {
        summary: 'Read one endpoint',
        tags: ['notifications'],
        security: [{ bearer: [] }],
        params: idParams,
        response: { 200: endpointSchema, 404: errorSchema },
      },
    },
    async (req) => {
      const e = (await endpointsOf(client, tenantOf(req))).find((x) => x.id === req.params.id);
      if (!e) throw notFound('webhook endpoint');
      return view(e);
    },
  );

  r.patch(
    '/v1/webhook-endpoints/:id',
    {
      schema: {
        summary: 'Change an endpoint: URL, description, event types, or enable it again',
        tags: ['notifications'],
        security: [{ bearer: [] }],
        params: idParams,
        body: z
          .object({
            url: url.optional(),
            description: z.string().max(200).nullable().optional(),
            eventTypes: eventTypes.optional(),
            enabled: z.boolean().optional(),
          })
          .strict(),
        response: { 200: endpointSchema, 400: errorSchema, 404: errorSchema, 422: errorSchema },
      },
    },
    async (req) => {
      if (req.body.url) await checkUrl(req.body.url);
      return view(
        await update(tenantOf(req), changeEndpointUpdate, {
          id: req.params.id,
          change: req.body,
          at: new Date().toISOString(),
        }),
      );
    },
  );

  r.post(
    '/v1/webhook-endpoints/:id/disable',
    {
      schema: {
        summary: 'Disable an endpoint: nothing more is delivered to it (PATCH enabled=true enables it again)',
        tags: ['notifications'],
        security: [{ bearer: [] }],
        params: idParams,
        response: { 200: endpointSchema, 404: errorSchema },
      },
    },
    async (req) =>
      view(
        await update(tenantOf(req), changeEndpointUpdate, {
          id: req.params.id,
          change: { enabled: false },
          at: new Date().toISOString(),
        }),
      ),
  );

  r.post(
    '/v1/webhook-endpoints/:id/rotate-secret',
    {
      schema: {
        summary: 'Rotate the signing secret: the new one is shown once; the old one keeps signing during the overlap',
        description:
          'During the overlap every delivery carries two signatures (webhook-signature: "v1,<new> v1,<old>"), so receivers switch secrets without losing a notification.',
        tags: ['notifications'],
        security: [{ bearer: [] }],
        params: idParams,
        body: z
          .object({
            overlapSeconds: z
              .number()
              .int()
              .min(0)
              .max(7 * 86_400)
              .default(86_400),
          })
          .strict()
          .optional(),
        response: { 200: withSecret, 400: errorSchema, 404: errorSchema },
      },
    },
    async (req) => {
      const secret = newSecret();
      const overlapMs = (req.body?.overlapSeconds ?? 86_400) * 1000;
      const e = await update(tenantOf(req), rotateSecretUpdate, {
        id: req.params.id,
        secret,
        overlapMs,
        at: new Date().toISOString(),
      });
      return { ...view(e), secret };
    },
  );
}
