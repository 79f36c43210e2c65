/**
 * ID360's callback receiver: `POST /webhooks/id360/:id`.
 *
 * ID360 signs nothing: a callback is authenticated by the header we registered with the enrollment
 * (`X-Idv-Callback-Token`, an HMAC of the verification id under WEBHOOK_SECRET: unguessable, per
 * verification, checked without stored state). Without it: 401, and nothing reaches the workflow.
 *
 * The body's status goes to the workflow as a signal; the workflow keeps the first final status and
 * ignores what comes after (retries, a late STARTED). Reason codes and step states are reduced to
 * code-like words: free text never reaches workflow history.
 */
import type { WebhookSecrets } from '../../config/webhook-token';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Client } from '@temporalio/client';
import { verifyWebhookToken } from '../../config/webhook-token';
import { ID360_CALLBACK_HEADER, ID360_STATUSES } from '../../activities/id360';
import { id360CallbackSignal } from '../../workflows/id360';
import { parseVerificationId } from '../../workflows/shared';
import { errorSchema } from '../schemas';
import { ApiError } from '../api-error';
import { signalOrExplain } from './signal';

const CODE = /^[A-Za-z0-9_.-]{1,64}$/;
const code = (v: unknown) => (typeof v === 'string' && CODE.test(v) ? v : null);

const body = z
  .object({
    id: z.union([z.number().int(), z.string().min(1).max(100)]).transform(String),
    status: z.enum(ID360_STATUSES),
    reason: z.string().max(200).nullish(),
    client_reference: z.string().max(255).nullish(),
    steps_status: z.record(z.string().max(64), z.string().max(64)).nullish(),
  })
  .passthrough();

export function registerId360Webhook(
  app: FastifyInstance,
  deps: { client: Client; webhookSecret: WebhookSecrets },
): void {
  const authenticate = async (req: FastifyRequest) => {
    const id = (req.params as { id?: string }).id ?? '';
    const given = req.headers[ID360_CALLBACK_HEADER.toLowerCase()];
    const parsed = parseVerificationId(id);
    if (
      !parsed ||
      parsed.provider !== 'id360' ||
      typeof given !== 'string' ||
      !verifyWebhookToken(deps.webhookSecret, 'id360', id, given)
    ) {
      throw new ApiError(401, 'unauthorized', `missing or wrong ${ID360_CALLBACK_HEADER} header`);
    }
  };

  app.withTypeProvider<ZodTypeProvider>().post(
    '/webhooks/id360/:id',
    {
      // Authenticate before looking at the body: an unauthenticated caller learns nothing about it.
      preValidation: authenticate,
      schema: {
        summary: `ID360 callback (authenticated by the ${ID360_CALLBACK_HEADER} header registered with the enrollment)`,
        params: z.object({ id: z.string().max(200) }),
        body,
        response: {
          200: z.object({ received: z.boolean(), note: z.string().optional() }),
          400: errorSchema,
          401: errorSchema,
          404: errorSchema,
        },
      },
    },
    async (req) => {
      const b = req.body;
      const steps: Record<string, string> = {};
      for (const [step, state] of Object.entries(b.steps_status ?? {})) {
        const s = code(step);
        const v = code(state);
        if (s && v) steps[s] = v;
      }
      return signalOrExplain(deps.client.workflow.getHandle(req.params.id), id360CallbackSignal, {
        enrollmentId: b.id,
        status: b.status,
        reason: b.reason ? (code(b.reason) ?? 'UNRECOGNIZED') : null,
        steps,
      });
    },
  );
}
