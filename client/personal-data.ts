/**
 * A verification's evidence and personal data, for authorized callers (bearer API key, inside /v1):
 *
 *   GET    /v1/verifications/:id/evidence           the artifacts: kind, sha256, size, when stored, whether still held
 *   GET    /v1/verifications/:id/evidence/:sha256   the bytes, with `X-Content-SHA256` and `Repr-Digest` to verify them
 *   DELETE /v1/verifications/:id/personal-data      erasure (GDPR): removes this verification's artifacts and records it
 *
 * A verification's artifacts are the references in its state plus every claim it (or one of the child
 * workflows its vendor's contract names, `personalData.evidenceOwners`) holds in the evidence store, uploads refused by the vendor included.
 * Erasure releases those claims: bytes that another verification also claims stay for it (content
 * addressing stores identical bytes once), every other byte is deleted. The erasure is recorded in
 * the API's audit log (it outlives the workflow's history) and, while the workflow runs, in its trail.
 * The workflow's history itself keeps its encrypted payloads until the namespace retention deletes it.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { EvidenceClaim, EvidenceStore } from '../activities/evidence-store';
import type { VendorRegistry } from '../config/vendors/contract';
import {
  apiVerificationId,
  auditSignal,
  parseVerificationId,
  type AuditEntry,
  type EvidenceRef,
  type VerificationState,
} from '../workflows/shared';
import { notifyAfterClose } from './notify-after-close';
import { actorOf } from './actor';
import type { AuditLog } from './audit-log';
import { ApiError, notFound } from './api-error';
import { errorSchema } from './schemas';
import { readState } from './verifications';

const params = z.object({ id: z.string().min(1).max(200) });
const artifactSchema = z.object({
  kind: z.string(),
  sha256: z.string(),
  size: z.number(),
  contentType: z.string(),
  storedAt: z.string().nullable(),
  available: z.boolean(),
  download: z.string(),
});

interface Artifact {
  kind: string;
  sha256: string;
  size: number;
  contentType: string;
  storedAt: string | null;
}

export function registerPersonalDataRoutes(
  app: FastifyInstance,
  /** `vendors`: the registry (config/vendors/index.ts), for each vendor's other evidence owners. */
  deps: { client: Client; store: EvidenceStore; auditLog: AuditLog; vendors: VendorRegistry },
): void {
  const { client, store, auditLog, vendors } = deps;
  const r = app.withTypeProvider<ZodTypeProvider>();

  /** The verification's state (null once its history is gone), the workflow ids that stored for it, its claims. */
  async function collect(
    id: string,
  ): Promise<{ state: VerificationState | null; owners: string[]; claims: EvidenceClaim[] }> {
    if (!parseVerificationId(id)) throw notFound();
    let state: VerificationState | null = null;
    const owners = [id];
    try {
      state = await readState(client, id);
      const evidenceOwners = vendors[state.provider]?.personalData?.evidenceOwners;
      if (evidenceOwners) owners.push(...(await evidenceOwners(client, id)));
    } catch (err) {
      if (!(err instanceof ApiError && err.statusCode === 404)) throw err;
    }
    const claims = (await Promise.all(owners.map((owner) => store.claims({ owner })))).flat();
    if (!state && claims.length === 0) throw notFound();
    return { state, owners, claims };
  }

  /** One entry per (sha256, kind): the state's references and the store's claims. */
  function artifactsOf(state: VerificationState | null, claims: EvidenceClaim[]): Artifact[] {
    const out = new Map<string, Artifact>();
    const add = (a: Artifact) => {
      const key = `${a.sha256}/${a.kind}`;
      const known = out.get(key);
      if (!known || (!known.storedAt && a.storedAt)) out.set(key, a);
    };
    for (const e of state?.evidence ?? []) add({ ...pick(e), storedAt: null });
    for (const c of claims)
      add({ kind: c.kind, sha256: c.sha256, size: c.size, contentType: c.contentType, storedAt: c.storedAt });
    return [...out.values()];
  }

  r.get(
    '/v1/verifications/:id/evidence',
    {
      schema: {
        summary:
          "The verification's evidence: every artifact with its kind, sha256 and size, when stored, and whether it is still held",
        security: [{ bearer: [] }],
        params,
        response: { 200: z.object({ id: z.string(), artifacts: z.array(artifactSchema) }), 404: errorSchema },
      },
    },
    async (req) => {
      const { state, claims } = await collect(req.params.id);
      const artifacts = await Promise.all(
        artifactsOf(state, claims).map(async (a) => ({
          ...a,
          available: await store.has(a.sha256),
          download: `/v1/verifications/${encodeURIComponent(apiVerificationId(req.params.id))}/evidence/${a.sha256}`,
        })),
      );
      return { id: apiVerificationId(req.params.id), artifacts };
    },
  );

  r.get(
    '/v1/verifications/:id/evidence/:sha256',
    {
      schema: {
        summary: 'Download one artifact; check its sha256 against X-Content-SHA256 (hex) or Repr-Digest (RFC 9530)',
        security: [{ bearer: [] }],
        params: z.object({
          id: z.string().min(1).max(200),
          sha256: z.string().regex(/^[a-f0-9]{64}$/, 'must be a sha256 in hex'),
        }),
      },
    },
    async (req, reply) => {
      const { state, claims } = await collect(req.params.id);
      const artifact = artifactsOf(state, claims).find((a) => a.sha256 === req.params.sha256);
      if (!artifact) throw notFound('artifact');
      const bytes = await store.get(artifact.sha256);
      if (!bytes) throw new ApiError(404, 'not_found', 'artifact no longer held (retention or erasure)');
      return (
        reply
          // The type the vendor (or the caller) gave is not trusted: only inert types pass, never text/html.
          .header('content-type', servedContentType(artifact.contentType))
          .header('x-content-type-options', 'nosniff')
          .header('content-disposition', `attachment; filename="${artifact.kind}-${artifact.sha256.slice(0, 12)}"`)
          .header('x-content-sha256', artifact.sha256)
          .header('repr-digest', `sha-256=:${Buffer.from(artifact.sha256, 'hex').toString('base64')}:`)
          .header('cache-control', 'no-store')
          .send(bytes)
      );
    },
  );

  r.delete(
    '/v1/verifications/:id/personal-data',
    {
      schema: {
        summary:
          "Erase the verification's personal data (GDPR): its artifacts in the evidence store; the erasure is recorded",
        description:
          'Removes every artifact the verification stored or references. Bytes another verification also stored stay for it (counted in keptForOthers). ' +
          'The erasure is recorded in the audit trail (GET …/audit). The workflow history keeps its encrypted payloads until the namespace retention.',
        security: [{ bearer: [] }],
        params,
        response: {
          200: z.object({
            id: z.string(),
            erasedAt: z.string(),
            artifacts: z.array(z.object({ kind: z.string(), sha256: z.string(), deleted: z.boolean() })),
            deleted: z.number(),
            keptForOthers: z.number(),
            recordedIn: z.array(z.enum(['workflow', 'audit-log'])),
            atVendor: z
              .object({
                duplicates: z
                  .array(z.string())
                  .describe(
                    "Vendor references of untracked duplicates (a create whose answer was lost): they hold the applicant's data at the vendor, which offers no deletion call: erase them with the vendor",
                  ),
                possibleDuplicates: z
                  .number()
                  .int()
                  .describe(
                    'Creates that went out unanswered: the vendor may hold this many more, with no reference we know',
                  ),
              })
              .describe('What this erasure could not reach: data held at the vendor beyond the verification itself'),
          }),
          404: errorSchema,
        },
      },
    },
    async (req) => {
      const id = req.params.id;
      const { state, claims } = await collect(id);
      const touched = new Map<string, string>(); // sha256 -> kind
      for (const c of claims) {
        await store.release(c);
        touched.set(c.sha256, c.kind);
      }
      // References without any claim (stored before claims existed) belong to no one else we know of.
      for (const e of state?.evidence ?? []) {
        if (touched.has(e.sha256)) continue;
        touched.set(e.sha256, e.kind);
        if ((await store.claims({ sha256: e.sha256 })).length === 0) await store.delete(e.sha256);
      }
      const artifacts = await Promise.all(
        [...touched].map(async ([sha256, kind]) => ({ kind, sha256, deleted: !(await store.has(sha256)) })),
      );
      const erasedAt = new Date().toISOString();
      const deleted = artifacts.filter((a) => a.deleted).length;
      const keptForOthers = artifacts.length - deleted;
      // Untracked duplicates at the vendor (sessions whose create answer was lost) are not ours to delete: the
      // vendors give no deletion call. They are named here and in the audit record, for the vendor.
      const atVendor = {
        duplicates: String(state?.facts.vendorDuplicates ?? '')
          .split(',')
          .filter(Boolean),
        possibleDuplicates: Number(state?.facts.vendorDuplicatesPossible ?? 0) || 0,
      };
      const entry: AuditEntry = {
        at: erasedAt,
        event: 'personal data erased',
        actor: actorOf(req),
        detail: {
          artifacts: artifacts.length,
          deleted,
          keptForOthers,
          sha256: artifacts.map((a) => a.sha256),
          ...(atVendor.duplicates.length || atVendor.possibleDuplicates ? { atVendor } : {}),
        },
      };
      // The audit log first: it is the durable record (it outlives the workflow's history).
      await auditLog.append(id, entry);
      const recordedIn: ('audit-log' | 'workflow')[] = ['audit-log'];
      if (state) {
        try {
          await client.workflow.getHandle(id).signal(auditSignal, entry);
          recordedIn.push('workflow');
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError))
            req.log.warn({ err: { type: (err as Error).name } }, 'erasure not signalled to the workflow');
          // Closed: the workflow cannot record the event any more, so the API hands it to the outbox.
          else
            await notifyAfterClose(client, id, state, 'verification.personal_data_erased').catch((e: Error) =>
              req.log.warn({ err: { type: e.name } }, 'erasure not notified'),
            );
        }
      }
      return { id: apiVerificationId(id), erasedAt, artifacts, deleted, keptForOthers, recordedIn, atVendor };
    },
  );
}

/** Content types evidence is served with; anything else is served as bytes. */
export const SERVED_CONTENT_TYPES = [
  'application/pdf',
  'application/zip',
  'application/json',
  'image/jpeg',
  'image/png',
  'image/heic',
] as const;

export function servedContentType(stored: string): string {
  const base = stored.split(';')[0]!.trim().toLowerCase();
  return (SERVED_CONTENT_TYPES as readonly string[]).includes(base) ? base : 'application/octet-stream';
}

function pick(e: EvidenceRef): Omit<Artifact, 'storedAt'> {
  return { kind: e.kind, sha256: e.sha256, size: e.size, contentType: e.contentType };
}
