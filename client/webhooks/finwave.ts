/**
 * Finwave's webhook receiver. Finwave documents no webhook authentication, so the URL we registered
 * ends in a per-verification HMAC token (config/webhook-token.ts); a request without the right
 * token is refused with 401 and never reaches the workflow. The body only nudges the workflow,
 * which reads the result from Finwave itself before acting.
 */
import type { WebhookSecrets } from '../../config/webhook-token';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Client } from '@temporalio/client';
import { verifyWebhookToken } from '../../config/webhook-token';
import { finwaveWebhookSignal } from '../../workflows/finwave';
import { parseVerificationId } from '../../workflows/shared';
import { errorSchema } from '../schemas';
import { ApiError } from '../api-error';
import { signalOrExplain } from './signal';

const body = z.object({
  onboardingId: z.string().min(1).max(200),
  customId: z.string().max(200).nullish(),
  result: z.enum(['CREATED', 'INPROCESS', 'INCOMPLETED', 'TIMEOUT', 'FINISHED']),
});

export function registerFinwaveWebhook(
  app: FastifyInstance,
  deps: { client: Client; webhookSecret: WebhookSecrets },
): void {
  app.withTypeProvider<ZodTypeProvider>().post(
    '/webhooks/finwave/:id/:token',
    {
      // Authenticate before looking at the body: an unauthenticated caller learns nothing about it.
      preValidation: async (req) => {
        const { id, token } = req.params as { id?: string; token?: string };
        if (
          !id ||
          !token ||
          parseVerificationId(id)?.provider !== 'finwave' ||
          !verifyWebhookToken(deps.webhookSecret, 'finwave', id, token)
        ) {
          throw new ApiError(401, 'unauthorized', 'unknown webhook token');
        }
      },
      schema: {
        summary: 'Finwave result webhook (the URL carries a per-verification token)',
        params: z.object({ id: z.string().max(200), token: z.string().max(100) }),
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
      return signalOrExplain(deps.client.workflow.getHandle(req.params.id), finwaveWebhookSignal, {
        onboardingId: req.body.onboardingId,
        result: req.body.result,
      });
    },
  );
}
