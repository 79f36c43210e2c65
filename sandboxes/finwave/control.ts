/**
 * The Finwave sandbox's control surface (never part of Finwave's API): the user's page and the
 * `/_sandbox` routes that play the end user.
 * | GET  /onboarding/:id                                  | the user's page, with buttons for each action          |
 * | POST /_sandbox/onboardings/:id/start                  | user starts: INPROCESS                                 |
 * | POST /_sandbox/onboardings/:id/finish {scenario?, person?} | FINISHED: approved | low-score | ocr-failed | biometry-failed | acceptation-declined |
 * | POST /_sandbox/onboardings/:id/abandon                | INCOMPLETED (USER_LEAVES_PROCESS)                      |
 * | POST /_sandbox/onboardings/:id/timeout                | TIMEOUT (TIME_EXPIRED) now, without waiting            |
 * | POST /_sandbox/onboardings/:id/webhook {result?, times?} | send a webhook again (duplicates, or an old status: out of order) |
 * | GET  /_sandbox/onboardings/:id                        | the sandbox's view: the registered webhook URL, every delivery attempt |
 * | POST /_sandbox/settings {webhooks: on|off}            | stop sending webhooks (to prove polling)               |
 * Test numbers (like a payment provider's test cards), chosen by the `phone` of the create call:
 *   600000001 the user finishes, approved · 600000002 abandons · 600000003 lets it time out ·
 *   600000004 finishes with OCR_RETRIES_EXCEEDED. Each plays itself ~2 s after creation.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { FINWAVE_STATUSES } from '../../activities/finwave/api';
import type { FinwaveSandbox } from './model';
import { FINWAVE_SCENARIOS, type Onboarding } from './types';

export function registerFinwaveControl(app: FastifyInstance, sandbox: FinwaveSandbox): void {
  const find = (req: FastifyRequest, reply: FastifyReply): Onboarding | undefined => {
    const o = sandbox.onboardings.get((req.params as { id: string }).id);
    if (!o) void reply.code(404).send({ code: 'NOT_FOUND', message: 'onboarding not found' });
    return o;
  };

  app.get('/onboarding/:id', async (req, reply) => {
    const o = find(req, reply);
    if (!o) return;
    sandbox.visit(o);
    return reply.type('text/html').send(userPage(o));
  });

  const actionBody = z
    .object({
      scenario: z.enum(FINWAVE_SCENARIOS).default('approved'),
      /** The user's identity as their document shows it: echoed in the result's OCR fields and the evidence ZIP. */
      person: z.object({ name: z.string().min(1).max(200), documentNumber: z.string().min(1).max(40) }).partial(),
    })
    .partial();
  app.post('/_sandbox/onboardings/:id/:action', async (req, reply) => {
    const o = find(req, reply);
    if (!o) return;
    const action = (req.params as { action: string }).action;
    const body = (req.body ?? {}) as Record<string, unknown>;
    let ok: boolean;
    switch (action) {
      case 'start':
        ok = sandbox.start(o);
        break;
      case 'finish': {
        const p = actionBody.safeParse(body);
        if (!p.success)
          return reply.code(400).send({
            error: { code: 'invalid_scenario', message: `scenario must be one of ${FINWAVE_SCENARIOS.join(', ')}` },
          });
        ok = sandbox.finish(o, p.data.scenario ?? 'approved', p.data.person ?? null);
        break;
      }
      case 'abandon':
        ok = sandbox.abandon(o);
        break;
      case 'timeout':
        ok = sandbox.timeout(o);
        break;
      case 'webhook': {
        const p = z
          .object({
            result: z.enum(FINWAVE_STATUSES).optional(),
            times: z.number().int().min(1).max(20).default(1),
          })
          .safeParse(body);
        if (!p.success)
          return reply.code(400).send({ error: { code: 'invalid_webhook', message: p.error.issues[0]!.message } });
        sandbox.resend(o, p.data.result, p.data.times);
        ok = true;
        break;
      }
      default:
        return reply
          .code(404)
          .send({ error: { code: 'unknown_action', message: 'actions: start, finish, abandon, timeout, webhook' } });
    }
    if (!ok)
      return reply.code(409).send({
        error: { code: 'invalid_transition', message: `cannot ${action} an onboarding in status ${o.status}` },
      });
    return { onboardingId: o.onboardingId, status: o.status };
  });

  app.get('/_sandbox/onboardings/:id', async (req, reply) => {
    const o = find(req, reply);
    if (!o) return;
    return {
      onboardingId: o.onboardingId,
      customId: o.customId,
      status: o.status,
      scenario: o.scenario,
      // The callback URL the integration registered (what the vendor's dashboard would show).
      webhook: o.webhook,
      webhookDeliveries: sandbox.webhooks.log.filter((d) => d.tag === o.onboardingId),
    };
  });

  app.post('/_sandbox/settings', async (req, reply) => {
    const p = z.object({ webhooks: z.enum(['on', 'off']) }).safeParse(req.body);
    if (!p.success)
      return reply
        .code(400)
        .send({ error: { code: 'invalid_settings', message: 'body: { "webhooks": "on" | "off" }' } });
    sandbox.webhooksEnabled = p.data.webhooks === 'on';
    return { webhooks: p.data.webhooks };
  });
}

function userPage(o: Onboarding): string {
  const button = (action: string, label: string, scenario?: string) =>
    `<button onclick="act('${action}'${scenario ? `,'${scenario}'` : ''})">${label}</button>`;
  return `<!doctype html><html><head><meta charset="utf-8"><title>Finwave sandbox onboarding</title>
<style>body{font-family:system-ui;max-width:40rem;margin:3rem auto}button{margin:.3rem;padding:.5rem 1rem}</style></head>
<body><h1>Finwave sandbox</h1><p>Onboarding <code>${o.onboardingId}</code>, status <b id="s">${o.status}</b>.</p>
<p>You are the end user. Choose what happens:</p>
${button('start', 'Start the process')}<br>
${button('finish', 'Finish: approved', 'approved')}${button('finish', 'Finish: low score', 'low-score')}${button('finish', 'Finish: OCR fails', 'ocr-failed')}${button('finish', 'Finish: biometry fails', 'biometry-failed')}<br>
${button('abandon', 'Abandon')}${button('timeout', 'Let it time out')}
<script>async function act(a,s){const r=await fetch('../_sandbox/onboardings/${o.onboardingId}/'+a,{method:'POST',headers:{'content-type':'application/json'},body:JSON.stringify(s?{scenario:s}:{})});const j=await r.json();document.getElementById('s').textContent=j.status||(j.error&&j.error.message);}</script>
</body></html>`;
}
