/**
 * `/return/authenteq`: where Authenteq sends the user's browser at the end, with `?state=...` (ours,
 * signed, see activities/authenteq.ts) and `code` (Authenteq's one-time code), or without a code when
 * the user did not finish. No bearer auth, a browser calls it: the signed state is the credential.
 *
 * The browser's word decides nothing: it forwards the code (or its absence) to the workflow, which
 * exchanges it with Authenteq itself. The browser gets a neutral page, or a redirect to the
 * integrator's `returnTo`, and never learns the result here.
 */
import type { WebhookSecrets } from '../../config/webhook-token';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Client } from '@temporalio/client';
import { hasEnded } from '../workflow-status';
import { decodeReturnState } from '../../config/webhook-token';
import { authenteqReturnSignal } from '../../workflows/authenteq';
import { parseVerificationId } from '../../workflows/shared';
import {
  browserPage,
  ENDED,
  INVALID_LINK,
  NOT_FOUND,
  redirectBrowser,
  ReturnDeduplicator,
  signalFromBrowser,
} from './page';

const query = z.object({
  state: z.string().max(3000).optional(),
  code: z.string().max(1024).optional(),
});

export function registerAuthenteqReturn(
  app: FastifyInstance,
  deps: { client: Client; webhookSecret: WebhookSecrets },
): void {
  const dedup = new ReturnDeduplicator();
  app.withTypeProvider<ZodTypeProvider>().get(
    '/return/authenteq',
    {
      schema: {
        summary: "Authenteq's redirect URL: the user's browser comes back here (signed state + one-time code)",
        querystring: query,
      },
    },
    async (req, reply) => {
      const state = req.query.state ? decodeReturnState(deps.webhookSecret, 'authenteq', req.query.state) : null;
      if (!state || parseVerificationId(state.workflowId)?.provider !== 'authenteq')
        return browserPage(reply, 401, ...INVALID_LINK);
      const raw = req.query.code ?? '';
      // A code is an opaque token; anything else is not one Authenteq gave (and is not forwarded).
      if (raw && !/^[A-Za-z0-9._~+/=-]{1,1024}$/.test(raw)) return browserPage(reply, 400, ...INVALID_LINK);
      const code = raw || null;
      const received = (c: string | null) =>
        c
          ? browserPage(reply, 200, 'Thank you', 'Your verification has been received. You can close this window.')
          : browserPage(
              reply,
              200,
              'Verification not finished',
              'The verification was not finished. Please go back to the service that sent you to start again.',
            );

      // A replay of a return already delivered is answered like the first one, without a signal.
      if (!dedup.admit(`${state.workflowId}|${state.session}`, code ?? '')) {
        if (state.returnTo) return redirectBrowser(reply, state.returnTo);
        if (await hasEnded(deps.client.workflow.getHandle(state.workflowId))) return browserPage(reply, 200, ...ENDED);
        return received(code);
      }
      const delivered = await signalFromBrowser(
        deps.client.workflow.getHandle(state.workflowId),
        authenteqReturnSignal,
        {
          session: state.session,
          code,
          ...(state.keyId ? { keyId: state.keyId } : {}),
        },
      );
      if (delivered === 'unknown') return browserPage(reply, 404, ...NOT_FOUND);
      if (state.returnTo) return redirectBrowser(reply, state.returnTo);
      if (delivered === 'ended') return browserPage(reply, 200, ...ENDED);
      return received(code);
    },
  );
}
