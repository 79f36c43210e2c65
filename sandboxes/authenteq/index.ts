/**
 * Authenteq sandbox: the Web IDV API of ../shared/vendor-docs/authenteq-web-idv.txt, served under
 * `/authenteq` (so the base URL `<sandbox>/authenteq` stands for https://api.app.authenteq.com).
 *
 * Vendor API (as documented). Auth: HTTP Basic, client id : client secret. Errors: `{ errorCode, errorMessage }`.
 * | GET /web-idv/verification-url?redirectUrl=         | headers `AQ-Multi-Document-Flow: On`, `AQ-Flow-Slug` (optional) | 200 `{ verificationUrl }` |
 * |   400 MISSING_REQUEST_PARAMETER (redirectUrl) · INVALID_REQUEST_PARAMETER (not a registered URL) · NO_REDIRECT_URLS     |
 * |   401 API_KEYS_MISSING · API_KEYS_INVALID · BAD_API_KEYS · 403 ACCOUNT_DEACTIVATED                                      |
 * | GET /web-idv/verification-result?redirectUrl=&code= | the code works once                              | 200 the result JSON       |
 * |   400 MISSING_REQUEST_PARAMETER (code, redirectUrl) · INVALID_REQUEST_PARAMETER (code invalid or expired;               |
 * |       redirectUrl does not match the code) · 401 API_KEYS_MISSING · API_KEYS_INVALID · API_KEYS_BAD                     |
 * The doc spells the "bad keys" code BAD_API_KEYS on one endpoint and API_KEYS_BAD on the other: both kept.
 * The user's browser ends on the redirect URL with `code` added, or without a code when the user left
 * (the verification must then be restarted, vendor notes).
 *
 * Assumptions beyond the doc (kept here, the one place):
 * - A redirect URL matches a registered one when scheme, host and path are equal; a query string is
 *   allowed and kept, and `code` is added to it. The exchange needs the exact redirectUrl string of the session.
 * - API_KEYS_INVALID: an Authorization header that is not `Basic base64(id:secret)`; BAD: well formed, wrong keys.
 * - A result's `status` is PASSED or FAILED (the doc shows PASSED only).
 * - A code expires `codeTtlMs` after it was issued (10 minutes by default); only a successful exchange consumes it.
 * - A deactivated account (403) can no longer open sessions; reading results still works.
 *
 * Playing the end user (the control surface, never part of Authenteq's API)
 * | GET  /verify?token=                                   | the user's page (the verificationUrl), a button per action |
 * | POST /_sandbox/sessions/:token/pass {nfcVerified?, addressProof?, documents?: 1-3, person?} | PASSED; answers `{ redirectTo }`, where the browser goes |
 * | POST /_sandbox/sessions/:token/fail                   | FAILED; answers `{ redirectTo }`                         |
 * | POST /_sandbox/sessions/:token/leave                  | the user leaves: `{ redirectTo }` without a code        |
 * | GET  /_sandbox/sessions/:token                        | the sandbox's view, with every exchange attempt of its code |
 * | GET|POST /_sandbox/account {redirectUrls?, deactivated?, clientSecret?} | the Customer Dashboard: registered URLs, deactivation, key rotation |
 * documents: how many documents the user scans in the multi-document flow (documentData2/3); 1 otherwise.
 */
import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { FaultInjector, registerFaults } from '../framework/faults';
import { Ledger, registerLedger } from '../framework/ledger';

type SessionStatus = 'OPEN' | 'LEFT' | 'PASSED' | 'FAILED';

interface Session {
  token: string;
  redirectUrl: string;
  multiDocument: boolean;
  flowSlug: string | null;
  status: SessionStatus;
  code: string | null;
  codeIssuedAt: number | null;
  codeUsed: boolean;
  result: Record<string, unknown> | null;
  createdAt: number;
}

export interface AuthenteqExchange {
  at: string;
  /** The session the code belonged to, when it was one of ours. */
  token: string | null;
  status: number;
  errorCode?: string;
}

export interface AuthenteqSandboxOptions {
  clientId: string;
  clientSecret: string;
  /** The sandbox's own public base URL (for the verification URL it hands out). */
  publicUrl: string;
  /** Redirect URLs registered in the "Customer Dashboard". */
  redirectUrls: string[];
  codeTtlMs?: number;
}

export interface AuthenteqPassOptions {
  nfcVerified?: boolean;
  addressProof?: boolean;
  documents?: 1 | 2 | 3;
  /** The user's identity on their first document (default: a fake SANDBOXDOE with a random number). */
  person?: { surname?: string; givenNames?: string; documentNumber?: string };
}

export class AuthenteqSandbox {
  readonly sessions = new Map<string, Session>();
  /** Side effects applied (framework/ledger.ts). */
  readonly ledger = new Ledger();
  private readonly codes = new Map<string, string>();
  readonly exchanges: AuthenteqExchange[] = [];
  readonly faults = new FaultInjector((_status, code, message) => ({ errorCode: code, errorMessage: message }));
  readonly account: { clientId: string; clientSecret: string; redirectUrls: string[]; deactivated: boolean };
  codeTtlMs: number;

  constructor(readonly options: AuthenteqSandboxOptions) {
    this.account = {
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      redirectUrls: [...options.redirectUrls],
      deactivated: false,
    };
    this.codeTtlMs = options.codeTtlMs ?? 10 * 60_000;
  }

  open(redirectUrl: string, multiDocument: boolean, flowSlug: string | null): Session {
    const s: Session = {
      token: crypto.randomBytes(18).toString('base64url'),
      redirectUrl,
      multiDocument,
      flowSlug,
      status: 'OPEN',
      code: null,
      codeIssuedAt: null,
      codeUsed: false,
      result: null,
      createdAt: Date.now(),
    };
    this.sessions.set(s.token, s);
    this.ledger.record('session-opened', s.token);
    return s;
  }

  verificationUrl(s: Session): string {
    return `${this.options.publicUrl}/authenteq/verify?token=${s.token}`;
  }

  isRegistered(redirectUrl: string): boolean {
    const key = (u: string) => {
      try {
        const url = new URL(u);
        return `${url.protocol}//${url.host}${url.pathname}`;
      } catch {
        return null;
      }
    };
    const given = key(redirectUrl);
    return given !== null && this.account.redirectUrls.some((r) => key(r) === given);
  }

  /** The user finishes; answers where the browser is sent (the redirect URL with a one-time code). */
  complete(s: Session, status: 'PASSED' | 'FAILED', opts: AuthenteqPassOptions = {}): string | null {
    if (s.status !== 'OPEN') return null;
    s.status = status;
    s.result = fakeResult(status, s.multiDocument ? (opts.documents ?? 2) : 1, opts);
    s.code = crypto.randomBytes(24).toString('base64url');
    s.codeIssuedAt = Date.now();
    this.codes.set(s.code, s.token);
    const url = new URL(s.redirectUrl);
    url.searchParams.set('code', s.code);
    return url.toString();
  }

  /** The user leaves: back to the redirect URL without a code. */
  leave(s: Session): string | null {
    if (s.status !== 'OPEN') return null;
    s.status = 'LEFT';
    return s.redirectUrl;
  }

  /** One exchange of a code; consumes it when it succeeds. */
  exchange(
    code: string,
    redirectUrl: string,
  ): { status: 200; body: Record<string, unknown> } | { status: 400; errorCode: string; errorMessage: string } {
    const token = this.codes.get(code) ?? null;
    const s = token ? this.sessions.get(token) : undefined;
    const record = (status: number, errorCode?: string) =>
      this.exchanges.push({ at: new Date().toISOString(), token, status, ...(errorCode ? { errorCode } : {}) });
    if (!s || s.codeUsed || !s.result || Date.now() - (s.codeIssuedAt ?? 0) > this.codeTtlMs) {
      record(400, 'INVALID_REQUEST_PARAMETER');
      return {
        status: 400,
        errorCode: 'INVALID_REQUEST_PARAMETER',
        errorMessage: "Parameter 'code' is invalid or expired",
      };
    }
    if (redirectUrl !== s.redirectUrl) {
      record(400, 'INVALID_REQUEST_PARAMETER');
      return {
        status: 400,
        errorCode: 'INVALID_REQUEST_PARAMETER',
        errorMessage: "Parameter 'redirectUrl' does not match the given authorization code",
      };
    }
    s.codeUsed = true;
    this.ledger.record('code-exchanged', s.token, s.token);
    record(200);
    return { status: 200, body: s.result };
  }
}

// ---- Fake identities: obviously fake, different per session (so tests can look for leaks). ----

function fakeImage(kind: string): { contentType: string; content: string } {
  // A well-formed JPEG start and end marker around a few random bytes.
  const bytes = Buffer.concat([
    Buffer.from('ffd8ffe000104a464946', 'hex'),
    Buffer.from(kind),
    crypto.randomBytes(16),
    Buffer.from('ffd9', 'hex'),
  ]);
  return { contentType: 'image/jpeg', content: bytes.toString('base64') };
}

function fakeDocument(n: number): Record<string, unknown> {
  const number = `SBX${crypto.randomInt(10_000_000, 99_999_999)}`;
  const common = {
    documentNumber: number,
    surnameAndGivenNames: 'SANDBOXDOE JANE',
    surname: 'SANDBOXDOE',
    givenNames: 'JANE',
    sex: 'F',
    dateOfBirth: '1990-04-12',
    dateOfExpiry: '2031-04-11',
    dateOfIssue: '2021-04-12',
    croppedFrontImage: fakeImage(`front${n}`),
    faceImage: fakeImage(`face${n}`),
  };
  switch (n) {
    case 1:
      return {
        documentType: 'NID',
        issuingCountry: 'ESP',
        nationality: 'ESP',
        ...common,
        croppedBackImage: fakeImage('back1'),
      };
    case 2:
      return {
        documentType: 'DL',
        issuingCountry: 'USA',
        jurisdiction: 'UT',
        ...common,
        address: '430-985 SANDBOX ST^DULUTH WA 92611',
        licenseClass: 'B',
        licenseClassDetails: { B: { from: '2019-01-30', to: '2029-01-30' } },
        croppedBackImage: fakeImage('back2'),
      };
    default:
      return { documentType: 'PP', issuingCountry: 'DEU', nationality: 'DEU', ...common };
  }
}

function personFields(p: AuthenteqPassOptions['person']): Record<string, unknown> {
  if (!p) return {};
  return {
    ...(p.surname ? { surname: p.surname } : {}),
    ...(p.givenNames ? { givenNames: p.givenNames } : {}),
    ...(p.surname || p.givenNames ? { surnameAndGivenNames: [p.surname, p.givenNames].filter(Boolean).join(' ') } : {}),
    ...(p.documentNumber ? { documentNumber: p.documentNumber } : {}),
  };
}

function fakeResult(
  status: 'PASSED' | 'FAILED',
  documents: number,
  opts: AuthenteqPassOptions,
): Record<string, unknown> {
  const end = new Date();
  const result: Record<string, unknown> = {
    id: crypto.randomUUID(),
    status,
    platform: 'WEB',
    startTime: new Date(end.getTime() - 150_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    endTime: end.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    livenessFaceImage: fakeImage('liveness'),
    documentData: { ...fakeDocument(1), ...personFields(opts.person) },
    nfcVerified: opts.nfcVerified ?? false,
  };
  if (documents >= 2) result.documentData2 = fakeDocument(2);
  if (documents >= 3) result.documentData3 = fakeDocument(3);
  if (opts.addressProof ?? true) {
    const pdf = Buffer.concat([
      Buffer.from('%PDF-1.4\n% sandbox address proof '),
      crypto.randomBytes(12),
      Buffer.from('\n%%EOF\n'),
    ]);
    result.addressProofDocument = { contentType: 'application/pdf', content: pdf.toString('base64') };
  }
  return result;
}

// ---- HTTP ----

function vendorError(reply: FastifyReply, status: number, errorCode: string, errorMessage: string) {
  return reply.code(status).send({ errorCode, errorMessage });
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

  app.get('/web-idv/verification-url', async (req, reply) => {
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
    const multi = String(req.headers['aq-multi-document-flow'] ?? '').toLowerCase() === 'on';
    const slug = req.headers['aq-flow-slug'];
    const s = sandbox.open(redirectUrl, multi, typeof slug === 'string' && slug ? slug : null);
    return { verificationUrl: sandbox.verificationUrl(s) };
  });

  app.get('/web-idv/verification-result', async (req, reply) => {
    if (!authenticate(req, reply, 'API_KEYS_BAD')) return reply;
    const { code, redirectUrl } = query(req);
    if (!code) return vendorError(reply, 400, 'MISSING_REQUEST_PARAMETER', "Required 'code' parameter is missing");
    if (!redirectUrl)
      return vendorError(reply, 400, 'MISSING_REQUEST_PARAMETER', "Required 'redirectUrl' parameter is missing");
    const answer = sandbox.exchange(code, redirectUrl);
    if (answer.status !== 200) return vendorError(reply, answer.status, answer.errorCode, answer.errorMessage);
    return answer.body;
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
          return reply
            .code(400)
            .send({
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
      return reply
        .code(400)
        .send({
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
