/**
 * Fourthline's webhook receivers and the OAuth token endpoint we host for them.
 *
 * Fourthline signs nothing: it authenticates to us, either with HTTP Basic credentials we gave it,
 * or (OAuth client credentials) by first getting a short-lived bearer token from
 * `POST /webhooks/fourthline/oauth/token` with the client id/secret we gave it
 * (FOURTHLINE_WEBHOOK_AUTH and its credentials). A request that does not authenticate is refused
 * with 401 and signals nothing.
 *
 * The registered URLs get the instance id appended: `/webhooks/fourthline/cases/<verificationId>`
 * and `/webhooks/fourthline/signatures/<signatureId>`. A signature's workflow is named after its
 * signatureId; a case's verification is found by the `VerificationProviderReference` search
 * attribute holding Fourthline's verificationId (findCase). The thin body only wakes the workflow,
 * which then reads the status from Fourthline.
 */
import crypto from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Client } from '@temporalio/client';
import type { FourthlineWebhookAuth } from '../../config/vendors/fourthline-config';
import { keyById, signingKey, type WebhookSecrets } from '../../config/webhook-token';
import {
  fourthlineCaseWebhookSignal,
  fourthlineSignatureWebhookSignal,
  signatureWorkflowId,
} from '../../workflows/fourthline';
import { SEARCH_ATTRIBUTES } from '../../workflows/shared';
import { errorSchema } from '../schemas';
import { ApiError } from '../api-error';
import { signalOrExplain } from './signal';

/** Bearer tokens we issue to Fourthline live this long. */
export const WEBHOOK_TOKEN_TTL_SECONDS = 600;

const idParam = z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, 'must be a Fourthline id');
const caseBody = z.object({
  verificationId: idParam,
  status: z.string().regex(/^[a-z_]{1,40}$/),
  timestamp: z.string().max(40).optional(),
});
const signatureBody = z.object({
  signatureId: idParam,
  status: z.string().regex(/^[a-z_]{1,40}$/),
  timestamp: z.string().max(40).optional(),
});
const tokenBody = z.object({
  grant_type: z.string().max(100),
  client_id: z.string().max(200).optional(),
  client_secret: z.string().max(200).optional(),
});
const received = z.object({ received: z.boolean(), note: z.string().optional() });

function safeEqual(a: string, b: string): boolean {
  const x = crypto.createHash('sha256').update(a).digest();
  const y = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(x, y);
}

function basicCredentials(req: FastifyRequest): { user: string; password: string } | null {
  const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(req.headers.authorization ?? '');
  if (!m) return null;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const sep = decoded.indexOf(':');
  if (sep < 0) return null;
  // RFC 6749 2.3.1 form-encodes the client id and secret; a malformed escape is no credential (401), never a 500.
  try {
    return { user: decodeURIComponent(decoded.slice(0, sep)), password: decodeURIComponent(decoded.slice(sep + 1)) };
  } catch {
    return null;
  }
}

/** Stateless bearer tokens: `<expiry>.<nonce>.[<kid>.]<HMAC(key, expiry.nonce)>` (the kid names the WEBHOOK_KEYS key). */
export function issueWebhookToken(secrets: WebhookSecrets, now = Date.now()): string {
  const key = signingKey(secrets);
  const body = `${Math.floor(now / 1000) + WEBHOOK_TOKEN_TTL_SECONDS}.${crypto.randomBytes(12).toString('base64url')}`;
  const mac = crypto.createHmac('sha256', `fourthline-webhooks\n${key.secret}`).update(body).digest('base64url');
  return key.id ? `${body}.${key.id}.${mac}` : `${body}.${mac}`;
}

export function verifyWebhookBearer(secrets: WebhookSecrets, token: string, now = Date.now()): boolean {
  const m = /^(\d{1,12})\.([A-Za-z0-9_-]{16})\.(?:([A-Za-z0-9_-]{1,32})\.)?([A-Za-z0-9_-]{43})$/.exec(token);
  const key = m && keyById(secrets, m[3]);
  if (!m || !key) return false;
  const expected = crypto
    .createHmac('sha256', `fourthline-webhooks\n${key.secret}`)
    .update(`${m[1]}.${m[2]}`)
    .digest('base64url');
  return safeEqual(expected, m[4]!) && Number(m[1]) * 1000 > now;
}

/** How long a case lookup retries before answering 404: covers the visibility store's lag behind the workflow. */
export const CASE_LOOKUP_ATTEMPTS = 6;
const CASE_LOOKUP_PAUSE_MS = 500;

/**
 * Our verification id for Fourthline's verificationId (validated by idParam: no quotes can reach
 * the query). The case workflow upserts it in `VerificationProviderReference` right after Fourthline
 * created the case, before it asks for the identity data, so a case webhook (which follows the
 * identity upload) comes after the upsert; the visibility store may still lag by a second or so,
 * hence the brief retry.
 */
export type FourthlineCaseLookup = (client: Client, fourthlineId: string) => Promise<string | null>;

export async function findCase(client: Client, fourthlineId: string): Promise<string | null> {
  const query = `${SEARCH_ATTRIBUTES.providerReference.name} = "${fourthlineId}" AND ${SEARCH_ATTRIBUTES.provider.name} = "fourthline"`;
  for (let attempt = 1; attempt <= CASE_LOOKUP_ATTEMPTS; attempt++) {
    for await (const wf of client.workflow.list({ query, pageSize: 1 })) return wf.workflowId;
    if (attempt < CASE_LOOKUP_ATTEMPTS) await new Promise((r) => setTimeout(r, CASE_LOOKUP_PAUSE_MS));
  }
  return null;
}

export function registerFourthlineWebhooks(
  app: FastifyInstance,
  /** `findCase`: how a case webhook finds its verification (default: the search attribute; tests on a server without visibility pass their own). */
  deps: { client: Client; auth: FourthlineWebhookAuth; webhookSecret: WebhookSecrets; findCase?: FourthlineCaseLookup },
): void {
  const { auth, webhookSecret } = deps;
  // OAuth token requests are form posts (RFC 6749); this parser lives in this plugin's scope only.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(String(body))));
  });
  // Any other content type reaches the schema as text, and is refused there with 400 (never 415/500).
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, String(body)));

  const authenticate = (req: FastifyRequest) => {
    if (auth.mode === 'basic') {
      const c = basicCredentials(req);
      if (c && safeEqual(c.user, auth.username) && safeEqual(c.password, auth.password)) return;
    } else {
      const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
      if (m && verifyWebhookBearer(webhookSecret, m[1]!)) return;
    }
    throw new ApiError(401, 'unauthorized', 'missing or invalid webhook credentials');
  };
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    '/webhooks/fourthline/oauth/token',
    {
      schema: {
        summary:
          'OAuth 2 token endpoint (client credentials) for Fourthline webhooks, when FOURTHLINE_WEBHOOK_AUTH=oauth',
        consumes: ['application/x-www-form-urlencoded'],
        body: tokenBody,
        response: {
          200: z.object({ access_token: z.string(), token_type: z.literal('Bearer'), expires_in: z.number() }),
          400: errorSchema,
          401: errorSchema,
          404: errorSchema,
          415: errorSchema,
        },
      },
    },
    async (req) => {
      if (auth.mode !== 'oauth')
        throw new ApiError(404, 'not_found', 'webhook OAuth is not enabled (FOURTHLINE_WEBHOOK_AUTH=basic)');
      // RFC 6749 error words as our error codes: `invalid_request`, `unsupported_grant_type`, `invalid_client`.
      const body = tokenBody.safeParse(req.body);
      if (!body.success)
        throw new ApiError(400, 'invalid_request', 'body: must be a form with grant_type=client_credentials');
      if (body.data.grant_type !== 'client_credentials')
        throw new ApiError(400, 'unsupported_grant_type', 'body.grant_type: must be "client_credentials"');
      const basic = basicCredentials(req);
      const id = basic?.user ?? body.data.client_id ?? '';
      const secret = basic?.password ?? body.data.client_secret ?? '';
      if (!safeEqual(id, auth.clientId) || !safeEqual(secret, auth.clientSecret))
        throw new ApiError(401, 'invalid_client', 'unknown client id or secret');
      return {
        access_token: issueWebhookToken(webhookSecret),
        token_type: 'Bearer' as const,
        expires_in: WEBHOOK_TOKEN_TTL_SECONDS,
      };
    },
  );

  r.post(
    '/webhooks/fourthline/cases/:verificationId',
    {
      schema: {
        summary: 'Fourthline identity case status webhook (HTTP Basic or OAuth bearer)',
        params: z.object({ verificationId: idParam }),
        body: caseBody,
        response: { 200: received, 400: errorSchema, 401: errorSchema, 404: errorSchema },
      },
      onRequest: async (req) => authenticate(req),
    },
    async (req) => {
      const id = req.params.verificationId;
      if (req.body.verificationId !== id)
        throw new ApiError(400, 'invalid_request', 'body.verificationId does not match the URL');
      const target = await (deps.findCase ?? findCase)(deps.client, id);
      if (!target) throw new ApiError(404, 'not_found', 'unknown verificationId');
      return signalOrExplain(deps.client.workflow.getHandle(target), fourthlineCaseWebhookSignal, {
        status: req.body.status,
      });
    },
  );

  r.post(
    '/webhooks/fourthline/signatures/:signatureId',
    {
      schema: {
        summary: 'Fourthline signature status webhook (HTTP Basic or OAuth bearer)',
        params: z.object({ signatureId: idParam }),
        body: signatureBody,
        response: { 200: received, 400: errorSchema, 401: errorSchema, 404: errorSchema },
      },
      onRequest: async (req) => authenticate(req),
    },
    async (req) => {
      const id = req.params.signatureId;
      if (req.body.signatureId !== id)
        throw new ApiError(400, 'invalid_request', 'body.signatureId does not match the URL');
      return signalOrExplain(
        deps.client.workflow.getHandle(signatureWorkflowId(id)),
        fourthlineSignatureWebhookSignal,
        { status: req.body.status },
      );
    },
  );
}
