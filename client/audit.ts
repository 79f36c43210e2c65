/**
 * The audit trail of each verification: what the applicant was shown and accepted (recorded by the
 * workflows from what the vendor showed or answered), and who drove each step through this API:
 *
 *   - the caller's API key id (never the token);
 *   - the end user's IP address and user agent, as the caller passes them on in `X-End-User-IP` and
 *     `X-End-User-Agent` (optional; an IP that does not parse is dropped, the agent is cut at 512 characters).
 *
 * After every step it drove (create, actions, cancel, evidence downloads, erasure) the API appends an
 * entry: to the workflow (the `audit` signal; its state is encrypted history) while it runs, to the
 * API's audit log (client/audit-log.ts) once it has closed. `GET /v1/verifications/:id/audit` answers
 * both, oldest first; `?export=true` answers it as a JSON file to keep.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import {
  apiVerificationId,
  auditSignal,
  DEFAULT_TENANT,
  parseVerificationId,
  tenantWorkflowId,
  verificationId,
  type AuditEntry,
} from '../workflows/shared';
import { actorOf } from './actor';
import type { AuditLog } from './audit-log';
import { notFound } from './api-error';
import { errorSchema } from './schemas';
import { readState } from './verifications';

/** Appends to the workflow's trail while it runs, else to the audit log. Never throws for a closed workflow. */
export async function appendAudit(
  client: Client,
  log: AuditLog,
  id: string,
  entry: AuditEntry,
): Promise<'workflow' | 'audit-log'> {
  try {
    await client.workflow.getHandle(id).signal(auditSignal, entry);
    return 'workflow';
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    await log.append(id, entry);
    return 'audit-log';
  }
}

const actorSchema = z.object({
  keyId: z.string(),
  endUserIp: z.string().nullable(),
  endUserAgent: z.string().nullable(),
});
const auditResponse = z.object({
  id: z.string(),
  entries: z.array(
    z.object({
      at: z.string(),
      event: z.string(),
      actor: actorSchema.nullable(),
      detail: z.record(z.string(), z.unknown()),
      recordedIn: z.enum(['workflow', 'audit-log']),
    }),
  ),
});

/**
 * The hook that records the steps the API drove, and the trail's route. Registered inside /v1 (after
 * the bearer-key hook, so `apiKeyId` is set).
 */
export function registerAuditTrail(app: FastifyInstance, deps: { client: Client; log: AuditLog }): void {
  const { client, log } = deps;

  app.addHook('onResponse', async (req, reply) => {
    const step = auditedStep(req, reply.statusCode);
    if (!step) return;
    // `at`: when the step was asked (entries the workflow made while answering come after it).
    const entry: AuditEntry = {
      at: new Date(Date.now() - reply.elapsedTime).toISOString(),
      event: step.event,
      actor: actorOf(req),
      detail: step.detail,
    };
    try {
      await appendAudit(client, log, step.id, entry);
    } catch (err) {
      // The step happened; the caller has its answer. Say that its audit entry is missing (no personal data).
      req.log.error({ err: { type: (err as Error).name }, event: step.event }, 'audit entry not recorded');
    }
  });

  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/v1/verifications/:id/audit',
    {
      schema: {
        summary:
          'The audit trail: what the applicant was shown and accepted, and who drove each step (key id, end-user IP and agent), oldest first',
        description: 'With `?export=true` the same JSON comes as a file download (Content-Disposition: attachment).',
        security: [{ bearer: [] }],
        params: z.object({ id: z.string().min(1).max(200) }),
        querystring: z.object({ export: z.enum(['true', 'false']).optional() }),
        response: { 200: auditResponse, 404: errorSchema },
      },
    },
    async (req, reply) => {
      const id = req.params.id;
      if (!parseVerificationId(id)) throw notFound();
      const fromLog = (await log.read(id)).map((e) => ({ ...e, recordedIn: 'audit-log' as const }));
      let fromWorkflow: (AuditEntry & { recordedIn: 'workflow' })[] = [];
      try {
        fromWorkflow = ((await readState(client, id)).audit ?? []).map((e) => ({
          ...e,
          recordedIn: 'workflow' as const,
        }));
      } catch (err) {
        // A history past the namespace retention is gone; what the audit log holds remains.
        if (!(err instanceof Error && (err as { statusCode?: number }).statusCode === 404) || fromLog.length === 0)
          throw err;
      }
      // An erasure is in both (the log is its durable copy): listed once.
      const inWorkflow = new Set(fromWorkflow.map((e) => `${e.at}|${e.event}`));
      const entries = [...fromWorkflow, ...fromLog.filter((e) => !inWorkflow.has(`${e.at}|${e.event}`))].sort((a, b) =>
        a.at.localeCompare(b.at),
      );
      const shown = apiVerificationId(id);
      if (req.query.export === 'true')
        reply.header(
          'content-disposition',
          `attachment; filename="audit-${shown.replace(/[^A-Za-z0-9._-]/g, '_')}.json"`,
        );
      return { id: shown, entries };
    },
  );
}

/** Which requests are steps of a verification worth an audit entry. Cancel records itself (its update carries the actor). */
function auditedStep(
  req: FastifyRequest,
  status: number,
): { id: string; event: string; detail: Record<string, unknown> } | null {
  const url = req.routeOptions.url;
  const params = (req.params ?? {}) as Record<string, string>;
  if (req.method === 'POST' && url === '/v1/verifications') {
    if (status !== 200 && status !== 201) return null;
    const body = req.body as { provider: Parameters<typeof verificationId>[0]; reference: string };
    return {
      id: tenantWorkflowId(req.principal?.tenant ?? DEFAULT_TENANT, verificationId(body.provider, body.reference)),
      event: status === 201 ? 'created' : 'create repeated',
      detail: { httpStatus: status },
    };
  }
  if (req.method === 'POST' && url?.startsWith('/v1/verifications/:id/actions/')) {
    // Business refusals (409 wrong state, 422 closed window / vendor refusal) are attempts worth keeping.
    if (!(status < 300 || status === 409 || status === 422 || status === 413 || status === 502)) return null;
    return {
      id: params.id!,
      event: `action ${url.slice('/v1/verifications/:id/actions/'.length)}`,
      detail: { httpStatus: status, result: status < 300 ? 'done' : 'refused' },
    };
  }
  if (req.method === 'GET' && url === '/v1/verifications/:id/evidence/:sha256' && status === 200) {
    return { id: params.id!, event: 'evidence downloaded', detail: { sha256: params.sha256 } };
  }
  return null;
}
