/**
 * `GET /go/id360/:id/:sealed`: the browser-mode link we hand out as nextAction. It sends the user's
 * browser on to ID360's own pages, which address the enrollment by its api_key
 * (`<ID360>/static/process_ui/index.html#/enrollment/<api_key>`).
 *
 * Why a link of ours: the api_key is a secret and must stay out of plain workflow history, where the
 * nextAction lives. The link carries it sealed (AES-GCM, bound to this verification id); only this
 * route opens it, at the moment the user follows it. A tampered link, or one moved to another
 * verification, does not open. The link is a bearer credential for the user, like ID360's own URL:
 * our request log keeps only the provider part of the path.
 */
import type { WebhookSecrets } from '../../config/webhook-token';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Client } from '@temporalio/client';
import { openApiKey } from '../../activities/id360-secrets';
import { id360VendorUserUrl } from '../../activities/id360';
import { parseVerificationId, TERMINAL_STATUSES } from '../../workflows/shared';
import { readVerification } from '../read-model';
import { ApiError } from '../api-error';
import { browserPage, ENDED, INVALID_LINK, NOT_FOUND } from './page';

export function registerId360Link(
  app: FastifyInstance,
  deps: { client: Client; webhookSecret: WebhookSecrets; id360BaseUrl: string },
): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/go/id360/:id/:sealed',
    {
      schema: {
        summary: "ID360 browser mode: the user's link to ID360's pages (nextAction.url of an ID360 verification)",
        params: z.object({ id: z.string().max(200), sealed: z.string().max(500) }),
      },
    },
    async (req, reply) => {
      const { id, sealed } = req.params;
      const apiKey = parseVerificationId(id)?.provider === 'id360' ? openApiKey(deps.webhookSecret, id, sealed) : null;
      if (!apiKey) return browserPage(reply, 401, ...INVALID_LINK);
      try {
        const { state } = await readVerification(deps.client, id);
        if (TERMINAL_STATUSES.includes(state.status)) return browserPage(reply, 410, ...ENDED);
      } catch (err) {
        if (err instanceof ApiError && err.statusCode === 404) return browserPage(reply, 404, ...NOT_FOUND);
        throw err;
      }
      return reply
        .header('cache-control', 'no-store')
        .header('referrer-policy', 'no-referrer')
        .redirect(id360VendorUserUrl(deps.id360BaseUrl, apiKey), 302);
    },
  );
}
