/**
 * Namirial VerifID sandbox: the enrollment API of ../shared/vendor-docs/namirial-verifid-enrollment.txt,
 * served under `/namirial` (so the base URL `<sandbox>/namirial` stands for https://verifid.ecertia.com).
 *
 * The vendor API it serves (endpoints, the enrollment resource, states, problem documents, the
 * assumptions beyond the doc) is described once, in activities/namirial/api.ts, the module our
 * activities call it with. Sandbox choice: a request expires by itself `requestTtlMs` after creation
 * (24 hours by default).
 *
 * Playing the end user (the control surface, never part of Namirial's API)
 * | GET  /enrollment/start/:id                          | the user's page (EnrollUrl): a button per ending           |
 * | POST /_sandbox/enrollments/:id/start                | the user starts: Started                                  |
 * | POST /_sandbox/enrollments/:id/finish {result, documentNumber?} | result "success" or a verifidError code; answers `{ returnTo }`, where the browser goes |
 * | POST /_sandbox/enrollments/:id/expire               | Namirial's clock runs out now: Expired / RequestIsExpired (no browser return) |
 * | GET  /_sandbox/enrollments/:id                      | the sandbox's view                                        |
 */
import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { FaultInjector, registerFaults } from '../framework/faults';
import { Ledger, registerLedger } from '../framework/ledger';
import { answer } from '../framework/answer';
import {
  createEnrollmentRequest,
  enrollmentResource,
  NAMIRIAL_API,
  NAMIRIAL_ERROR_CODES,
  NAMIRIAL_TOKEN_HEADER,
  namirialReturnUrl,
  problem,
  type NamirialErrorCode,
  type NamirialState,
} from '../../activities/namirial/api';

export { NAMIRIAL_ERROR_CODES, problem, type NamirialErrorCode };

type State = NamirialState;

export interface Enrollment {
  Id: string;
  Kinds: string[];
  State: State;
  Outcome: string | null;
  Name: string;
  LastName: string;
  DocumentNumber: string | null;
  Email: string;
  Phone: string | null;
  Language: string;
  Provider: string;
  Consumer: string;
  IdentificationUrl: string | null;
  EnrollUrl: string;
  ReturnUrl: string;
}

interface Entry {
  enrollment: Enrollment;
  profile: string;
  createdAt: number;
  timer: NodeJS.Timeout | null;
}

export interface NamirialSandboxOptions {
  apiToken: string;
  /** The sandbox's own public base URL (for EnrollUrl). */
  publicUrl: string;
  requestTtlMs?: number;
}

export class NamirialSandbox {
  readonly enrollments = new Map<string, Entry>();
  /** Side effects applied (framework/ledger.ts). */
  readonly ledger = new Ledger();
  readonly faults = new FaultInjector((status, _code, message) =>
    problem(status, status === 503 ? 'Problems found trying to contact with OnBoarding Today API' : message),
  );
  requestTtlMs: number;

  constructor(readonly options: NamirialSandboxOptions) {
    this.requestTtlMs = options.requestTtlMs ?? 24 * 3_600_000;
  }

  create(body: {
    Profile: string;
    Language: string;
    Email: string;
    FirstName: string;
    LastName: string;
    ReturnUrl: string;
  }): Enrollment {
    const id = crypto.randomUUID();
    const e: Enrollment = {
      Id: id,
      Kinds: ['Email'],
      State: 'New',
      Outcome: null,
      Name: body.FirstName,
      LastName: body.LastName,
      DocumentNumber: null,
      Email: body.Email,
      Phone: null,
      Language: body.Language,
      Provider: 'bit4id',
      Consumer: body.Profile.split('::')[2]!.toLowerCase(),
      IdentificationUrl: null,
      EnrollUrl: `${this.options.publicUrl}/namirial/enrollment/start/${id}`,
      ReturnUrl: body.ReturnUrl,
    };
    const r: Entry = { enrollment: e, profile: body.Profile, createdAt: Date.now(), timer: null };
    r.timer = setTimeout(() => this.expire(e), this.requestTtlMs).unref();
    this.enrollments.set(id, r);
    // Keyed by the ReturnUrl (it carries our signed state, one per verification): no personal data.
    this.ledger.record('enrollment-created', id, body.ReturnUrl);
    return e;
  }

  get(id: string): Enrollment | undefined {
    return this.enrollments.get(id)?.enrollment;
  }

  start(e: Enrollment): boolean {
    if (e.State === 'Started') return true;
    if (e.State !== 'New') return false;
    e.State = 'Started';
    e.IdentificationUrl = `${this.options.publicUrl}/namirial/enrollment/start/${e.Id}#identification`;
    return true;
  }

  /** The user is done; answers where the browser is sent (ReturnUrl with verifidResult / verifidError). */
  finish(e: Enrollment, result: 'success' | NamirialErrorCode, documentNumber?: string): string | null {
    if (e.State !== 'New' && e.State !== 'Started') return null;
    if (result === 'success') {
      e.State = 'Completed';
      e.Outcome = 'Success';
      e.DocumentNumber = documentNumber ?? `CA${crypto.randomInt(10_000, 99_999)}SB`;
    } else {
      e.State = result === 'RequestIsExpired' ? 'Expired' : 'Failed';
      e.Outcome = result;
    }
    this.stopClock(e);
    return namirialReturnUrl(e.ReturnUrl, result);
  }

  /** Namirial's own clock: the request expires without the user. */
  expire(e: Enrollment): boolean {
    if (e.State !== 'New' && e.State !== 'Started') return false;
    e.State = 'Expired';
    e.Outcome = 'RequestIsExpired';
    this.stopClock(e);
    return true;
  }

  stop(): void {
    for (const r of this.enrollments.values()) if (r.timer) clearTimeout(r.timer);
  }

  private stopClock(e: Enrollment): void {
    const r = this.enrollments.get(e.Id);
    if (r?.timer) clearTimeout(r.timer);
    if (r) r.timer = null;
  }
}

function send(reply: FastifyReply, status: number, details: string) {
  return reply.code(status).type('application/problem+json').send(problem(status, details));
}

export function registerNamirialSandbox(app: FastifyInstance, sandbox: NamirialSandbox): void {
  registerFaults(app, sandbox.faults);
  registerLedger(app, sandbox.ledger);

  const endpoint = (op: keyof typeof NAMIRIAL_API) => ({ method: NAMIRIAL_API[op].method, url: NAMIRIAL_API[op].path });
  const auth = async (req: FastifyRequest, reply: FastifyReply) => {
    const token = req.headers[NAMIRIAL_TOKEN_HEADER.toLowerCase()];
    if (!token) return send(reply, 401, 'Authentication failed: missing token.');
    if (token !== sandbox.options.apiToken) return send(reply, 401, 'Authentication failed: bad token.');
  };

  app.route({
    ...endpoint('createEnrollment'),
    preHandler: auth,
    handler: async (req, reply) => {
      const parsed = createEnrollmentRequest.safeParse(req.body);
      if (!parsed.success) {
        const field = String(parsed.error.issues[0]!.path[0] ?? 'body');
        return send(reply, 400, `${field} is missing or not valid`);
      }
      const b = parsed.data;
      if (!b.FirstName.trim()) return send(reply, 400, `${b.Profile} can't enroll requests with an empty firstname`);
      if (!b.LastName.trim()) return send(reply, 400, `${b.Profile} can't enroll requests with an empty lastname`);
      return answer(enrollmentResource, sandbox.create(b));
    },
  });

  app.route({
    ...endpoint('readEnrollment'),
    preHandler: auth,
    handler: async (req, reply) => {
      const e = sandbox.get((req.params as { id: string }).id);
      if (!e) return send(reply, 404, 'Enrollment not found');
      return answer(enrollmentResource, e);
    },
  });

  // ---- Control surface: plays the end user. ----

  const find = (req: FastifyRequest, reply: FastifyReply): Enrollment | undefined => {
    const e = sandbox.get((req.params as { id: string }).id);
    if (!e) void reply.code(404).send({ error: { code: 'not_found', message: 'no such enrollment' } });
    return e;
  };

  app.get('/enrollment/start/:id', async (req, reply) => {
    const e = find(req, reply);
    if (!e) return reply;
    sandbox.start(e);
    return reply.type('text/html').send(userPage(e));
  });

  // documentNumber: the one on the user's document (default: a random sandbox number).
  const finishBody = z.object({
    result: z.enum(['success', ...NAMIRIAL_ERROR_CODES]),
    documentNumber: z.string().min(1).max(40).optional(),
  });
  app.post('/_sandbox/enrollments/:id/:action', async (req, reply) => {
    const e = find(req, reply);
    if (!e) return reply;
    const action = (req.params as { action: string }).action;
    switch (action) {
      case 'start':
        if (!sandbox.start(e)) break;
        return { State: e.State, Outcome: e.Outcome };
      case 'finish': {
        const p = finishBody.safeParse(req.body ?? {});
        if (!p.success)
          return reply.code(400).send({
            error: {
              code: 'invalid_result',
              message: `result must be success or one of ${NAMIRIAL_ERROR_CODES.join(', ')}`,
            },
          });
        const returnTo = sandbox.finish(e, p.data.result, p.data.documentNumber);
        if (!returnTo) break;
        return { State: e.State, Outcome: e.Outcome, returnTo };
      }
      case 'expire':
        if (!sandbox.expire(e)) break;
        return { State: e.State, Outcome: e.Outcome };
      default:
        return reply.code(404).send({ error: { code: 'unknown_action', message: 'actions: start, finish, expire' } });
    }
    return reply
      .code(409)
      .send({ error: { code: 'invalid_transition', message: `cannot ${action} an enrollment in state ${e.State}` } });
  });

  app.get('/_sandbox/enrollments/:id', async (req, reply) => {
    const e = find(req, reply);
    if (!e) return reply;
    return { Id: e.Id, State: e.State, Outcome: e.Outcome, ReturnUrl: e.ReturnUrl };
  });
}

function userPage(e: Enrollment): string {
  const button = (result: string, label: string) => `<button onclick="act('${result}')">${label}</button>`;
  return `<!doctype html><html><head><meta charset="utf-8"><title>VerifID sandbox enrollment</title>
<style>body{font-family:system-ui;max-width:40rem;margin:3rem auto}button{margin:.3rem;padding:.5rem 1rem}</style></head>
<body><h1>Namirial VerifID sandbox</h1><p>Enrollment <code>${e.Id}</code>, state <b id="s">${e.State}</b>.</p>
<p>You are the end user. Choose how the identification ends (the browser then goes to the ReturnUrl):</p>
${button('success', 'Success')}<br>${NAMIRIAL_ERROR_CODES.map((c) => button(c, c)).join('')}
<script>async function act(r){const x=await fetch('../../_sandbox/enrollments/${e.Id}/finish',{method:'POST',headers:{'content-type':'application/json'},body:JSON.stringify({result:r})});const j=await x.json();if(j.returnTo){location.href=j.returnTo}else{document.getElementById('s').textContent=j.error&&j.error.message}}</script>
</body></html>`;
}
