/** `/v1/verifications`: start, read and cancel verifications. Each one is a workflow. */
import crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateStage,
  type Client,
} from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import type { AppConfig } from '../config/app-config';
import { workflowTaskQueue } from '../config/task-queues';
import type { VendorRegistry } from '../config/vendors/contract';
import { NOTIFICATIONS_MEMO_KEY } from '../workflows/notifier';
import type { EvidenceStore } from '../activities/evidence-store';
import {
  apiVerificationId,
  cancelUpdate,
  DEFAULT_TENANT,
  tenantWorkflowId,
  nextActionUpdate,
  parseVerificationId,
  SEARCH_ATTRIBUTES,
  verificationId,
  type VerificationState,
} from '../workflows/shared';
import { ApiError, notFound } from './api-error';
import { actorOf } from './actor';
import { hasClosed } from './workflow-status';
import { readVerification } from './read-model';
import { checkHistoryBounds, createVerificationBodyOf, workflowStart } from './providers';
import { CREATE_BUSY_WORKER_WAIT_MS, CREATE_WORKER_WAIT_MS, isTimeout } from './deadlines';
import { errorSchema, verificationSchema } from './schemas';

/** How long the create call waits for the vendor session to open before answering. */
const CREATE_WAIT_MS = 20_000;

export function registerVerificationRoutes(
  app: FastifyInstance,
  /** `vendors`: the registry (config/vendors/index.ts): the providers the create body accepts. */
  deps: { client: Client; config: AppConfig; store: EvidenceStore; vendors: VendorRegistry },
): void {
  const { client, config, vendors } = deps;
  const createVerificationBody = createVerificationBodyOf(vendors);
  const r = app.withTypeProvider<ZodTypeProvider>();
  const idParams = z.object({ id: z.string().min(1).max(200) });

  r.post(
    '/v1/verifications',
    {
      schema: {
        summary: 'Start a verification (idempotent on provider + reference)',
        description:
          'Answers 201 with the new verification, or 200 with the existing one when provider + reference was already used: a repeat never opens a second vendor session.',
        security: [{ bearer: [] }],
        body: createVerificationBody,
        response: {
          200: verificationSchema,
          201: verificationSchema,
          202: verificationSchema,
          400: errorSchema,
          401: errorSchema,
          409: errorSchema,
          422: errorSchema,
        },
      },
    },
    async (req, reply) => {
      const body = req.body;
      if (config.disabledProviders.includes(body.provider)) {
        throw new ApiError(422, 'provider_not_configured', `${body.provider} is not configured on this service`);
      }
      checkHistoryBounds(body, config.minPollIntervalMs);
      const tenant = req.principal?.tenant ?? DEFAULT_TENANT;
      const id = tenantWorkflowId(tenant, verificationId(body.provider, body.reference));
      const vendor = vendors[body.provider]!;
      const { workflowType, input } = workflowStart(vendor, id, body);
      const createHash = bodyHash(body);
      let created = true;
      try {
        await client.workflow.start(workflowType, {
          workflowId: id,
          // What this create asked for (a hash, no personal data; the memo is encrypted anyway): a repeat must ask the same.
          taskQueue: workflowTaskQueue(config),
          args: [input],
          // Never a second vendor session for the same provider + reference, even after it ended.
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          typedSearchAttributes: [
            { key: SEARCH_ATTRIBUTES.provider, value: body.provider },
            { key: SEARCH_ATTRIBUTES.status, value: 'created' },
            { key: SEARCH_ATTRIBUTES.tenant, value: tenant },
          ],
          // The Web UI's workflow page (user metadata, encrypted by the codec like any payload): no personal data.
          staticSummary: `${vendor.label} · started through the API`,
          staticDetails: startDetails(vendor.label, req.apiKeyId),
          // The workflow notifies this tenant's endpoints (workflows/notifier.ts); encrypted like every payload.
          memo: { createHash, [NOTIFICATIONS_MEMO_KEY]: { tenant, taskQueue: workflowTaskQueue(config) } },
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        created = false;
        const earlier = (await client.workflow.getHandle(id).describe()).memo?.createHash;
        // Like Stripe's idempotency keys: the same reference with another body is a mistake, not a repeat.
        if (typeof earlier === 'string' && earlier !== createHash) {
          throw new ApiError(
            409,
            'idempotency_conflict',
            'this reference was already used with a different body: use a new reference',
          );
        }
      }
      const state = await nextActionOrNull(client, id, workflowTaskQueue(config));
      if (!state) {
        // No worker took the flow in time: it is recorded and starts when a worker is back.
        const now = new Date().toISOString();
        return reply.code(202).send({
          id: apiVerificationId(id),
          provider: body.provider,
          reference: body.reference,
          status: 'created' as const,
          outcome: null,
          providerStatus: null,
          providerReference: null,
          reason: null,
          nextAction: {
            type: 'wait' as const,
            reason: 'the verification is recorded and starts as soon as a worker is available: read it again shortly',
          },
          facts: {},
          evidence: [],
          timeline: [],
          createdAt: now,
          updatedAt: now,
        });
      }
      return reply.code(created ? 201 : 200).send(view(state));
    },
  );

  r.get(
    '/v1/verifications/:id',
    {
      schema: {
        summary: 'Read a verification: normalized status, outcome, vendor status, timeline',
        security: [{ bearer: [] }],
        params: idParams,
        response: { 200: verificationSchema, 404: errorSchema },
      },
    },
    async (req, reply) => {
      // Never needs a worker: the result, a short query or the published state (client/read-model.ts).
      const { state, source } = await readVerification(client, req.params.id);
      return reply.header('verification-source', source).send(view(state));
    },
  );

  r.post(
    '/v1/verifications/:id/cancel',
    {
      schema: {
        summary: 'Cancel a verification that has not ended',
        security: [{ bearer: [] }],
        params: idParams,
        body: z
          .object({ reason: z.string().max(200).optional() })
          .strict()
          .nullish(), // curl -XPOST without a body sends none (null)
        response: { 200: verificationSchema, 404: errorSchema, 409: errorSchema },
      },
    },
    async (req) => {
      const handle = handleFor(client, req.params.id);
      try {
        return view(
          await handle.executeUpdate(cancelUpdate, {
            args: [{ reason: req.body?.reason ?? 'cancelled by the caller', actor: actorOf(req) }],
          }),
        );
      } catch (err) {
        const ended =
          err instanceof WorkflowUpdateFailedError ||
          (err instanceof WorkflowNotFoundError && (await hasClosed(handle)));
        if (ended) throw new ApiError(409, 'conflict', await endedMessage(handle, err));
        if (err instanceof WorkflowNotFoundError) throw notFound();
        throw err;
      }
    },
  );
}

/** Markdown for the Web UI: what this workflow is and where to read it. Opaque ids only. */
function startDetails(label: string, apiKeyId: string | undefined): string {
  return [
    `**${label}**, one verification of the API (\`GET /v1/verifications/<workflow id>\`).`,
    `Started with API key id \`${apiKeyId ?? 'unknown'}\`. "Current details" say what the flow waits for;`,
    'the Queries tab answers `state`; the search attributes `VerificationStatus` / `VerificationOutcome` follow each phase.',
  ].join('\n\n');
}

/** sha256 of the validated body (defaults applied), keys sorted: the same request hashes the same. */
export function bodyHash(body: unknown): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
          )
        : v;
  return crypto
    .createHash('sha256')
    .update(JSON.stringify(canonical(body)))
    .digest('hex');
}

/** A refused cancel names the final state: the validator's refusal says it, or the closed workflow's result does. */
async function endedMessage(handle: ReturnType<Client['workflow']['getHandle']>, err: unknown): Promise<string> {
  if (err instanceof WorkflowUpdateFailedError && err.cause?.message) return err.cause.message;
  const final = (await handle.result().catch(() => null)) as VerificationState | null;
  return final?.status
    ? `the verification has already ended as ${final.status}${final.outcome ? `/${final.outcome}` : ''}`
    : 'the verification has already ended';
}

/**
 * The create call's state: the nextAction update once a worker has accepted it, or null when no worker
 * accepted it within CREATE_WORKER_WAIT_MS (the caller answers 202 with nextAction wait).
 */
async function nextActionOrNull(client: Client, id: string, taskQueue: string): Promise<VerificationState | null> {
  const handle = handleFor(client, id);
  // A worker polling the queue may just be busy (a burst of creates): give it longer than the 3 s that
  // tell "no worker at all". Either way, an Update no worker accepted in time answers 202.
  const wait = (await workerPolling(client, taskQueue)) ? CREATE_BUSY_WORKER_WAIT_MS : CREATE_WORKER_WAIT_MS;
  let update;
  try {
    update = await client.withDeadline(Date.now() + wait, () =>
      handle.startUpdate(nextActionUpdate, {
        args: [{ maxWaitMs: CREATE_WAIT_MS }],
        waitForStage: WorkflowUpdateStage.ACCEPTED,
      }),
    );
  } catch (err) {
    if (isTimeout(err)) return null;
    // A closed workflow takes no update: read it with the query.
    if (err instanceof WorkflowNotFoundError) return readState(client, id);
    throw err;
  }
  try {
    return await update.result();
  } catch (err) {
    // Accepted but not answered within the call's deadline: the flow runs; the caller reads it again.
    if (isTimeout(err)) return null;
    throw err;
  }
}

/** How long a "yes, a worker polls" answer is reused: a burst of creates asks the server once, not per create. */
const POLLING_ANSWER_MS = 5_000;
const pollingSeen = new Map<string, number>();

/** Whether a worker polled this workflow task queue lately (a server call, no worker needed; a yes is reused for 5 s). */
async function workerPolling(client: Client, taskQueue: string): Promise<boolean> {
  const key = `${client.options.namespace}/${taskQueue}`;
  if ((pollingSeen.get(key) ?? 0) > Date.now()) return true;
  try {
    const { pollers } = await client.withDeadline(Date.now() + 2_000, () =>
      client.workflowService.describeTaskQueue({
        namespace: client.options.namespace,
        taskQueue: { name: taskQueue },
        taskQueueType: 1 /* WORKFLOW */,
      }),
    );
    const recent = Date.now() - 70_000; // a long poll lasts at most a minute
    const seconds = (s: unknown) =>
      typeof s === 'number'
        ? s
        : typeof (s as { toNumber?: unknown })?.toNumber === 'function'
          ? (s as { toNumber(): number }).toNumber()
          : 0;
    const polling = (pollers ?? []).some((p) => seconds(p.lastAccessTime?.seconds) * 1000 > recent);
    if (polling) pollingSeen.set(key, Date.now() + POLLING_ANSWER_MS);
    else pollingSeen.delete(key);
    return polling;
  } catch {
    return false;
  }
}

function handleFor(client: Client, id: string) {
  if (!parseVerificationId(id)) throw notFound();
  return client.workflow.getHandle(id);
}

/**
 * The state: the nextAction update while the workflow runs (create), otherwise the read path that
 * needs no worker (client/read-model.ts: the result of a closed one, a short query or the
 * published state of an open one).
 */
export async function readState(
  client: Client,
  id: string,
  opts: { waitForNextAction?: boolean } = {},
): Promise<VerificationState> {
  const handle = handleFor(client, id);
  if (opts.waitForNextAction) {
    try {
      return await handle.executeUpdate(nextActionUpdate, { args: [{ maxWaitMs: CREATE_WAIT_MS }] });
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err; // a closed workflow takes no update: read it below
    }
  }
  return (await readVerification(client, id, { withAudit: true })).state;
}

export function view(s: VerificationState) {
  return {
    id: apiVerificationId(s.id),
    provider: s.provider,
    reference: s.reference,
    status: s.status,
    outcome: s.outcome,
    providerStatus: s.providerStatus,
    providerReference: s.providerReference,
    reason: s.reason,
    nextAction: s.nextAction,
    facts: s.facts,
    evidence: s.evidence,
    timeline: s.timeline,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  };
}
