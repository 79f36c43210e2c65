/**
 * The ID360 sandbox's user pages and control surface (never part of ID360's API): play the end user
 * (every step, cancel), choose the verdict, expire, resend callbacks, read statistics, expire tokens.
 * `:ref` is the enrollment id or its api_key.
 * | POST /_sandbox/enrollments/:ref/scenario {status, reason?, lateStarted?} | verdict at finalize: OK | KO | FAILED (default OK); lateStarted: a retried STARTED callback lands after the final one |
 * | POST /_sandbox/enrollments/:ref/complete {status?, reason?}     | browser mode: the user does every step and finalizes |
 * | POST /_sandbox/enrollments/:ref/cancel                          | the user cancels: CANCELED                           |
 * | POST /_sandbox/enrollments/:ref/expire                          | ID360's own clock runs out now: CANCELED (ERL_TIMEOUT) |
 * | POST /_sandbox/enrollments/:ref/callbacks {status?, times?}     | send callbacks again (duplicates, or an old status) |
 * | GET  /_sandbox/enrollments/:ref                                 | the sandbox's view, with every callback delivery     |
 * | GET  /_sandbox/stats, DELETE /_sandbox/stats                    | logins, whoami, token and api-key calls counted      |
 * | POST /_sandbox/tokens/expire                                    | every login token dies now (as after 15 idle minutes) |
 * | POST /_sandbox/settings {callbacks?: on|off, reportDelayMs?}    | stop sending callbacks (to prove polling); make the report lag the verdict |
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ID360_STATUSES, ID360_VERDICTS } from '../../activities/id360/api';
import type { Id360Sandbox } from './model';
import { emptyStats, FINAL, type Enrollment } from './types';

export function registerId360Control(app: FastifyInstance, sandbox: Id360Sandbox): void {
  app.get('/static/process_ui/index.html', async (_req, reply) => reply.type('text/html').send(userPage()));

  const findRef = (req: FastifyRequest, reply: FastifyReply): Enrollment | undefined => {
    const e = sandbox.find((req.params as { ref: string }).ref);
    if (!e) void reply.code(404).send({ error: { code: 'not_found', message: 'no such enrollment (id or api_key)' } });
    return e;
  };
  const statusEnum = z.enum(ID360_STATUSES);
  const reasonSchema = z
    .string()
    .regex(/^[A-Z0-9_]{2,64}$/)
    .nullable()
    .optional();

  app.post('/_sandbox/enrollments/:ref/:action', async (req, reply) => {
    const e = findRef(req, reply);
    if (!e) return;
    const action = (req.params as { action: string }).action;
    const body = (req.body ?? {}) as Record<string, unknown>;
    let ok: boolean;
    switch (action) {
      case 'scenario':
      case 'complete': {
        const document = z
          .object({
            name: z.string().max(100),
            first_name: z.string().max(100),
            birth_date: z.string().max(10),
            document_number: z.string().max(40),
          })
          .partial();
        const p = z
          .object({
            status: z.enum(ID360_VERDICTS).default('OK'),
            reason: reasonSchema,
            lateStarted: z.boolean().default(false),
            document: document.optional(),
          })
          .safeParse(body);
        if (!p.success)
          return reply.code(400).send({
            error: {
              code: 'invalid_scenario',
              message: `status must be one of ${ID360_VERDICTS.join(', ')}; reason like VLD_VALIDATION_KO`,
            },
          });
        e.scenario = { status: p.data.status, reason: p.data.reason ?? null, lateStarted: p.data.lateStarted };
        if (p.data.document) e.document = p.data.document;
        ok = action === 'scenario' ? !FINAL.includes(e.status) : sandbox.complete(e);
        break;
      }
      case 'cancel':
        ok = sandbox.cancel(e);
        break;
      case 'expire':
        ok = sandbox.expire(e);
        break;
      case 'callbacks': {
        const p = z
          .object({ status: statusEnum.optional(), times: z.number().int().min(1).max(20).default(1) })
          .safeParse(body);
        if (!p.success)
          return reply.code(400).send({ error: { code: 'invalid_callbacks', message: p.error.issues[0]!.message } });
        sandbox.resend(e, p.data.status, p.data.times);
        ok = true;
        break;
      }
      default:
        return reply.code(404).send({
          error: { code: 'unknown_action', message: 'actions: scenario, complete, cancel, expire, callbacks' },
        });
    }
    if (!ok)
      return reply.code(409).send({
        error: {
          code: 'invalid_transition',
          message: `cannot ${action} an enrollment in status ${e.status}${e.finalized ? ' (finalized)' : ''}`,
        },
      });
    return { id: e.id, status: e.status, reason: e.reason, browser_callback_url: e.browserCallbackUrl };
  });

  app.get('/_sandbox/enrollments/:ref', async (req, reply) => {
    const e = findRef(req, reply);
    if (!e) return;
    return {
      id: e.id,
      status: e.status,
      reason: e.reason,
      clientReference: e.clientReference,
      selectedRoute: e.selectedRoute,
      consent: e.consent,
      comparisons: Object.fromEntries(Object.entries(e.comparisons).map(([k, c]) => [k, { locked: c.locked }])),
      totalPages: e.totalPages,
      pages: e.pages,
      selfie: e.selfie,
      finalized: e.finalized,
      reads: e.reads,
      scenario: e.scenario,
      stepsStatus: sandbox.stepsStatus(e),
      callbackDeliveries: sandbox.webhooks.log.filter((d) => d.tag === String(e.id)),
    };
  });

  app.get('/_sandbox/stats', async () => sandbox.stats);
  app.delete('/_sandbox/stats', async () => {
    sandbox.stats = emptyStats();
    return sandbox.stats;
  });
  app.post('/_sandbox/tokens/expire', async () => ({ expired: sandbox.expireTokens() }));
  app.post('/_sandbox/settings', async (req, reply) => {
    const p = z
      .object({
        callbacks: z.enum(['on', 'off']).optional(),
        reportDelayMs: z.number().int().min(0).max(3_600_000).optional(),
      })
      .safeParse(req.body);
    if (!p.success)
      return reply.code(400).send({
        error: {
          code: 'invalid_settings',
          message: 'body: { "callbacks"?: "on" | "off", "reportDelayMs"?: number }',
        },
      });
    if (p.data.callbacks) sandbox.callbacksEnabled = p.data.callbacks === 'on';
    if (p.data.reportDelayMs !== undefined) sandbox.reportDelayMs = p.data.reportDelayMs;
    return { callbacks: sandbox.callbacksEnabled ? 'on' : 'off', reportDelayMs: sandbox.reportDelayMs };
  });
}

/** ID360's pages for the end user: reads the api_key from the fragment, as ID360's own UI does. */
function userPage(): string {
  const button = (action: string, label: string, status?: string) =>
    `<button onclick="act('${action}'${status ? `,'${status}'` : ''})">${label}</button>`;
  return `<!doctype html><html><head><meta charset="utf-8"><title>ID360 sandbox enrollment</title>
<style>body{font-family:system-ui;max-width:40rem;margin:3rem auto}button{margin:.3rem;padding:.5rem 1rem}</style></head>
<body><h1>ID360 sandbox</h1><p>Enrollment status: <b id="s">…</b></p>
<p>You are the end user. Do every step (route, consent, ID document, selfie, finalize) with one click:</p>
${button('complete', 'Complete: verdict OK', 'OK')}${button('complete', 'Complete: verdict KO', 'KO')}${button('complete', 'Complete: technical failure', 'FAILED')}<br>
${button('cancel', 'Cancel my enrollment')}
<p id="back"></p>
<script>
const key = (location.hash.match(/enrollment\\/([0-9a-f]+)/) || [])[1];
async function show(j){document.getElementById('s').textContent=j.status||(j.error&&j.error.message);
 if(j.browser_callback_url&&j.status!=='NEW'){document.getElementById('back').innerHTML='<a href="'+j.browser_callback_url+'">Back to the service</a>';}}
async function act(a,s){const r=await fetch('../../_sandbox/enrollments/'+key+'/'+a,{method:'POST',headers:{'content-type':'application/json'},body:JSON.stringify(s?{status:s}:{})});show(await r.json());}
fetch('../../_sandbox/enrollments/'+key).then(r=>r.json()).then(show);
</script></body></html>`;
}
