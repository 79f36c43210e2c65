/**
 * `/return/namirial/:state`: the ReturnUrl we give Namirial VerifID, where the user's browser lands
 * with `verifidResult` (success | error) and `verifidError` (a code). No bearer auth, a browser calls
 * it: the signed state in the path is the credential (the doc appends `?verifidResult=` to the
 * ReturnUrl as is, so the state cannot be a query parameter).
 *
 * The browser's words are only a hint: reduced to known words, they prompt the workflow to read the
 * enrollment from Namirial, which decides. The browser gets a neutral page (never "success"), or a
 * redirect to the integrator's `returnTo`.
 */
import type { WebhookSecrets } from '../../config/webhook-token';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Client } from '@temporalio/client';
import { hasEnded } from '../workflow-status';
import { decodeReturnState } from '../../config/webhook-token';
import { namirialReturnSignal, type NamirialReturn } from '../../workflows/namirial';
import { isNamirialErrorCode } from '../../workflows/namirial-outcome';
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
  verifidResult: z.string().max(64).optional(),
  verifidError: z.string().max(64).optional(),
});

export function registerNamirialReturn(
  app: FastifyInstance,
  deps: { client: Client; webhookSecret: WebhookSecrets },
): void {
  const dedup = new ReturnDeduplicator();
  app.withTypeProvider<ZodTypeProvider>().get(
    '/return/namirial/:state',
    {
      schema: {
        summary: "Namirial VerifID's ReturnUrl: the user's browser comes back here (signed state in the path)",
        params: z.object({ state: z.string().max(3000) }),
        querystring: query,
      },
    },
    async (req, reply) => {
      const state = decodeReturnState(deps.webhookSecret, 'namirial', req.params.state);
      if (!state || parseVerificationId(state.workflowId)?.provider !== 'namirial')
        return browserPage(reply, 401, ...INVALID_LINK);
      const { verifidResult, verifidError } = req.query;
      const hint: NamirialReturn = {
        verifidResult: verifidResult === 'success' || verifidResult === 'error' ? verifidResult : 'unrecognized',
        verifidError:
          verifidError === undefined ? null : isNamirialErrorCode(verifidError) ? verifidError : 'unrecognized',
      };
      // A replay of a return already delivered is answered like the first one, without a signal.
      if (!dedup.admit(`${state.workflowId}|${state.session}`, `${hint.verifidResult}|${hint.verifidError ?? ''}`)) {
        if (state.returnTo) return redirectBrowser(reply, state.returnTo);
        if (await hasEnded(deps.client.workflow.getHandle(state.workflowId))) return browserPage(reply, 200, ...ENDED);
        return browserPage(reply, 200, 'Thank you', 'You are back from the identification. You can close this window.');
      }
      const delivered = await signalFromBrowser(
        deps.client.workflow.getHandle(state.workflowId),
        namirialReturnSignal,
        hint,
      );
      if (delivered === 'unknown') return browserPage(reply, 404, ...NOT_FOUND);
      if (state.returnTo) return redirectBrowser(reply, state.returnTo);
      if (delivered === 'ended') return browserPage(reply, 200, ...ENDED);
      return browserPage(reply, 200, 'Thank you', 'You are back from the identification. You can close this window.');
    },
  );
}
