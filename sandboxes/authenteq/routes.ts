/**
 * The Authenteq sandbox's HTTP surface: the vendor API of activities/authenteq/api.ts (auth, parameters,
 * registered redirect URLs, one-time codes) over the model in ./model.ts, then the control surface (never
 * part of Authenteq's API): the user's page, `/_sandbox/sessions` and the Customer Dashboard
 * (`/_sandbox/account`).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  AUTHENTEQ_API,
  AUTHENTEQ_HEADERS,
  verificationUrlResponse,
  type AuthenteqError,
} from '../../activities/authenteq/api';
import { answer } from '../framework/answer';
import { registerFaults } from '../framework/faults';
import { registerLedger } from '../framework/ledger';
import type { AuthenteqSandbox, Session } from './model';

function vendorError(reply: FastifyReply, status: number, errorCode: string, errorMessage: string) {
  return reply.code(status).send({ errorCode, errorMessage } satisfies AuthenteqError);
}

type Keys = 'missing' | 'invalid' | { id: string; secret: string };

function basicAuth(header: string | undefined): Keys {
  if (!header) return 'missing';
  const m = /^Basic ([A-Za-z0-9+/]+={0,2})$/.exec(header);
  if (!m) return 'invalid';
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const sep = decoded.indexOf(':');
  if (sep <= 0) return 'invalid';
  return { id: decoded.slice(0, sep), secret: decoded.slice(sep + 1) };
}

export function registerAuthenteqSandbox(app: FastifyInstance, sandbox: AuthenteqSandbox): void {
  const endpoint = (op: keyof typeof AUTHENTEQ_API) => ({
    method: AUTHENTEQ_API[op].method,
    url: AUTHENTEQ_API[op].path,
  });
  registerFaults(app, sandbox.faults);
  registerLedger(app, sandbox.ledger);

  /** Answers the documented 401s; the "bad keys" code differs between the two endpoints (doc). */
  const authenticate = (
    req: FastifyRequest,
    reply: FastifyReply,
    badKeysCode: 'BAD_API_KEYS' | 'API_KEYS_BAD',
  ): boolean => {
    const keys = basicAuth(req.headers.authorization);
    if (keys === 'missing') void vendorError(reply, 401, 'API_KEYS_MISSING', 'No API Keys in the Authorization header');
    else if (keys === 'invalid')
      void vendorError(reply, 401, 'API_KEYS_INVALID', 'Invalid API Keys in the Authorization header');
    else if (keys.id !== sandbox.account.clientId || keys.secret !== sandbox.account.clientSecret)
      void vendorError(reply, 401, badKeysCode, 'Bad API Keys');
    else return true;
    return false;
  };
  const query = (req: FastifyRequest) => (req.query ?? {}) as Record<string, string | undefined>;

  app.route({
    ...endpoint('getVerificationUrl'),
    handler: async (req, reply) => {
      if (!authenticate(req, reply, 'BAD_API_KEYS')) return reply;
      if (sandbox.account.deactivated) {
        return vendorError(
          reply,
          403,
          'ACCOUNT_DEACTIVATED',
          'Account deactivated. Please contact your Authenteq Sales Representative in order to keep using this service',
        );
      }
      const redirectUrl = query(req).redirectUrl;
      if (!redirectUrl)
        return vendorError(reply, 400, 'MISSING_REQUEST_PARAMETER', "Required 'redirectUrl' parameter is missing");
      if (!sandbox.account.redirectUrls.length) {
        return vendorError(
          reply,
          400,
          'NO_REDIRECT_URLS',
          'No registered redirect URLs. Please specify at least one in Customer Dashboard',
        );
      }
      if (!sandbox.isRegistered(redirectUrl))
        return vendorError(
          reply,
          400,
          'INVALID_REQUEST_PARAMETER',
          "Parameter 'redirectUrl' does not match any registered one",
        );
      const multi = String(req.headers[AUTHENTEQ_HEADERS.multiDocumentFlow.toLowerCase()] ?? '').toLowerCase() === 'on';
      const slug = req.headers[AUTHENTEQ_HEADERS.flowSlug.toLowerCase()];
      const s = sandbox.open(redirectUrl, multi, typeof slug === 'string' && slug ? slug : null);
      return answer(verificationUrlResponse, { verificationUrl: sandbox.verificationUrl(s) });
    },
  });

  app.route({
    ...endpoint('getResult'),
    handler: async (req, reply) => {
      if (!authenticate(req, reply, 'API_KEYS_BAD')) return reply;
      const { code, redirectUrl } = query(req);
      if (!code) return vendorError(reply, 400, 'MISSING_REQUEST_PARAMETER', "Required 'code' parameter is missing");
      if (!redirectUrl)
        return vendorError(reply, 400, 'MISSING_REQUEST_PARAMETER', "Required 'redirectUrl' parameter is missing");
      const exchanged = sandbox.exchange(code, redirectUrl);
      if (exchanged.status !== 200)
        return vendorError(reply, exchanged.status, exchanged.errorCode, exchanged.errorMessage);
      return exchanged.body;
    },
  });

  // ---- Control surface: plays the end user and the Customer Dashboard. ----

  const find = (token: string | undefined, reply: FastifyReply): Session | undefined => {
    const s = token ? sandbox.sessions.get(token) : undefined;
    if (!s) void reply.code(404).send({ error: { code: 'not_found', message: 'no such verification session' } });
    return s;
  };

  app.get('/verify', async (req, reply) => {
    const s = find(query(req).token, reply);
    if (!s) return reply;
    return reply.type('text/html').send(userPage(s));
  });

  const passBody = z
    .object({
      nfcVerified: z.boolean().optional(),
      addressProof: z.boolean().optional(),
      documents: z.union([z.literal(1), z.literal(2), z.literal(3)]).optional(),
      person: z
        .object({ surname: z.string().max(100), givenNames: z.string().max(100), documentNumber: z.string().max(40) })
        .partial()
        .strict()
        .optional(),
    })
    .strict();
  app.post('/_sandbox/sessions/:token/:action', async (req, reply) => {
    const { token, action } = req.params as { token: string; action: string };
    const s = find(token, reply);
    if (!s) return reply;
    let redirectTo: string | null;
    switch (action) {
      case 'pass': {
        const p = passBody.safeParse(req.body ?? {});
        if (!p.success)
          return reply.code(400).send({
            error: {
              code: 'invalid_options',
              message:
                'body: { nfcVerified?, addressProof?, documents?: 1 | 2 | 3, person?: { surname?, givenNames?, documentNumber? } }',
            },
          });
        redirectTo = sandbox.complete(s, 'PASSED', p.data);
        break;
      }
      case 'fail':
        redirectTo = sandbox.complete(s, 'FAILED');
        break;
      case 'leave':
        redirectTo = sandbox.leave(s);
        break;
      default:
        return reply.code(404).send({ error: { code: 'unknown_action', message: 'actions: pass, fail, leave' } });
    }
    if (!redirectTo)
      return reply
        .code(409)
        .send({ error: { code: 'invalid_transition', message: `the session is already ${s.status}` } });
    return { status: s.status, redirectTo };
  });

  app.get('/_sandbox/sessions/:token', async (req, reply) => {
    const s = find((req.params as { token: string }).token, reply);
    if (!s) return reply;
    return {
      token: s.token,
      status: s.status,
      redirectUrl: s.redirectUrl,
      multiDocument: s.multiDocument,
      flowSlug: s.flowSlug,
      codeUsed: s.codeUsed,
      exchanges: sandbox.exchanges.filter((e) => e.token === s.token),
    };
  });

  const accountBody = z
    .object({
      redirectUrls: z.array(z.string().url()).max(20).optional(),
      deactivated: z.boolean().optional(),
      clientSecret: z.string().min(8).optional(),
    })
    .strict();
  const accountView = () => ({
    clientId: sandbox.account.clientId,
    redirectUrls: sandbox.account.redirectUrls,
    deactivated: sandbox.account.deactivated,
  });
  app.get('/_sandbox/account', async () => accountView());
  app.post('/_sandbox/account', async (req, reply) => {
    const p = accountBody.safeParse(req.body ?? {});
    if (!p.success)
      return reply.code(400).send({
        error: {
          code: 'invalid_account',
          message: 'body: { redirectUrls?: string[], deactivated?: boolean, clientSecret?: string }',
        },
      });
    if (p.data.redirectUrls) sandbox.account.redirectUrls = p.data.redirectUrls;
    if (p.data.deactivated !== undefined) sandbox.account.deactivated = p.data.deactivated;
    if (p.data.clientSecret) sandbox.account.clientSecret = p.data.clientSecret;
    return accountView();
  });
}

function userPage(s: Session): string {
  const button = (action: string, label: string, body = '{}') =>
    `<button onclick='act("${action}", ${body})'>${label}</button>`;
  const multi = s.multiDocument
    ? `<p>Multi-document flow${s.flowSlug ? `, flow <code>${escapeHtml(s.flowSlug)}</code>` : ''}:</p>${button('pass', 'Pass with 2 documents', '{"documents":2}')}${button('pass', 'Pass with 3 documents', '{"documents":3}')}<br>`
    : '';
  return `<!doctype html><html><head><meta charset="utf-8"><title>Authenteq sandbox verification</title>
<style>body{font-family:system-ui;max-width:40rem;margin:3rem auto}button{margin:.3rem;padding:.5rem 1rem}</style></head>
<body><h1>Authenteq sandbox</h1><p>Verification session, status <b id="s">${s.status}</b>.</p>
<p>You are the end user. Choose what happens (the browser then goes back to the redirect URL):</p>
${multi}${button('pass', 'Pass')}${button('pass', 'Pass, NFC verified', '{"nfcVerified":true}')}${button('fail', 'Fail')}${button('leave', 'Leave (back without a code)')}
<script>async function act(a,b){const r=await fetch('_sandbox/sessions/${s.token}/'+a,{method:'POST',headers:{'content-type':'application/json'},body:JSON.stringify(b)});const j=await r.json();if(j.redirectTo){location.href=j.redirectTo}else{document.getElementById('s').textContent=j.error&&j.error.message}}</script>
</body></html>`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
