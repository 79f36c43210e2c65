/**
 * Finwave sandbox: the Digital Onboarding API of ../shared/vendor-docs/finwave-digital-onboarding.txt,
 * served under `/finwave` (so the base URL is `<sandbox>/finwave/management`).
 *
 * Vendor API (as documented)
 * | POST     /management/integrations                     | create, or re-read by customId (url null once started) |
 * | GET      /management/integrations/:id/result          | the result JSON, partial before the end                |
 * | GET|POST /management/integrations/:id/evidences       | evidence ZIP once FINISHED (doc: heading GET, method POST) |
 * Auth: `gestok-client-token`. Webhook `{ onboardingId, customId, result }` POSTed to the given URL on
 * every status change, retried with backoff until answered 2xx.
 *
 * Assumptions beyond the doc (kept here, the one place): error bodies are `{ code, message }`; a
 * missing or wrong token answers 401; an unknown onboarding 404; evidences before FINISHED 409; a
 * repeated create for a not-yet-started process answers 200 with the same URL; the user's session
 * times out after `sessionTimeoutMs` (30 minutes by default) with errorEvent TIME_EXPIRED.
 *
 * Playing the end user (the control surface, never part of Finwave's API)
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
import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { FaultInjector, registerFaults } from '../framework/faults';
import { Ledger, registerLedger } from '../framework/ledger';
import { WebhookDispatcher, type WebhookOptions } from '../framework/webhooks';
import { zip } from '../framework/zip';

type Status = 'CREATED' | 'INPROCESS' | 'INCOMPLETED' | 'TIMEOUT' | 'FINISHED';
export const FINWAVE_SCENARIOS = [
  'approved',
  'low-score',
  'ocr-failed',
  'biometry-failed',
  'acceptation-declined',
] as const;
type Scenario = (typeof FINWAVE_SCENARIOS)[number];

interface Onboarding {
  onboardingId: string;
  customId: string;
  webhook: string;
  phoneStep: boolean;
  acceptations: { mandatory: boolean; text: string }[];
  status: Status;
  scenario: Scenario | null;
  /** The user's identity as their document shows it (default: the sandbox's sample document). */
  person: { name?: string; documentNumber?: string } | null;
  errorEvent: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  logs: { timestamp: number; code: string; description: string }[];
  timer: NodeJS.Timeout | null;
}

export interface FinwaveSandboxOptions {
  clientToken: string;
  /** The sandbox's own public base URL (for the user URL it hands out), e.g. http://127.0.0.1:8090 */
  publicUrl: string;
  sessionTimeoutMs?: number;
  webhooks?: WebhookOptions;
  /** Delay before a test-number scenario plays itself. */
  autoPlayDelayMs?: number;
}

const createBody = z.object({
  customId: z.string().min(1).max(200),
  webhook: z.string().url(),
  lang: z.literal('ENG', { message: 'lang: only ENG is allowed' }),
  phoneCountryCode: z
    .string()
    .regex(/^\+\d{1,4}$/, 'phoneCountryCode: must look like +34')
    .optional(),
  phone: z
    .string()
    .regex(/^\d{6,15}$/, 'phone: must be a valid phone number')
    .optional(),
  phoneStep: z.boolean().default(false),
  acceptations: z.array(z.object({ mandatory: z.boolean(), text: z.string().min(1) })).default([]),
  redirectUrl: z
    .object({ type: z.number().int().min(1).max(4), url: z.string(), waitingTime: z.number() })
    .partial()
    .optional(),
});

const TEST_NUMBERS: Record<string, (s: FinwaveSandbox, o: Onboarding) => void> = {
  '600000001': (s, o) => (s.start(o), s.finish(o, 'approved')),
  '600000002': (s, o) => (s.start(o), s.abandon(o)),
  '600000003': (s, o) => s.timeout(o),
  '600000004': (s, o) => (s.start(o), s.finish(o, 'ocr-failed')),
};

export class FinwaveSandbox {
  readonly onboardings = new Map<string, Onboarding>();
  readonly faults = new FaultInjector();
  /** Side effects applied (framework/ledger.ts). */
  readonly ledger = new Ledger();
  readonly webhooks: WebhookDispatcher;
  webhooksEnabled = true;
  /** The user session length before Finwave turns it to TIMEOUT (the vendor clock). */
  sessionTimeoutMs: number;

  constructor(readonly options: FinwaveSandboxOptions) {
    this.webhooks = new WebhookDispatcher(options.webhooks);
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? 30 * 60_000;
  }

  create(body: z.infer<typeof createBody>): { onboarding: Onboarding; repeated: boolean } {
    const existing = [...this.onboardings.values()].find((o) => o.customId === body.customId);
    if (existing) return { onboarding: existing, repeated: true };
    const o: Onboarding = {
      onboardingId: crypto.randomBytes(9).toString('base64url'),
      customId: body.customId,
      webhook: body.webhook,
      phoneStep: body.phoneStep,
      acceptations: body.acceptations,
      status: 'CREATED',
      scenario: null,
      person: null,
      errorEvent: null,
      createdAt: Date.now(),
      startedAt: null,
      finishedAt: null,
      logs: [],
      timer: null,
    };
    this.onboardings.set(o.onboardingId, o);
    this.ledger.record('onboarding-created', o.onboardingId, body.customId);
    o.timer = setTimeout(() => this.timeout(o), this.sessionTimeoutMs).unref();
    this.notify(o);
    const play = body.phone ? TEST_NUMBERS[body.phone] : undefined;
    if (play) setTimeout(() => play(this, o), this.options.autoPlayDelayMs ?? 2000).unref();
    return { onboarding: o, repeated: false };
  }

  userUrl(o: Onboarding): string {
    return `${this.options.publicUrl}/finwave/onboarding/${o.onboardingId}`;
  }

  visit(o: Onboarding): void {
    if (o.status === 'CREATED')
      this.logEvent(
        o,
        'USER_VISITED_ONBORDING_WEB',
        'The user has visited the web, but has not yet started the process.',
      );
  }

  start(o: Onboarding): boolean {
    if (o.status !== 'CREATED') return false;
    o.status = 'INPROCESS';
    o.startedAt = Date.now();
    this.logEvent(o, 'USER_START_ONBOARDING_PROCESS', 'The user has started the login process.');
    this.notify(o);
    return true;
  }

  finish(o: Onboarding, scenario: Scenario, person: Onboarding['person'] = null): boolean {
    if (o.status === 'CREATED') this.start(o);
    if (o.status !== 'INPROCESS') return false;
    o.scenario = scenario;
    o.person = person;
    o.errorEvent = scenario === 'ocr-failed' ? 'OCR_RETRIES_EXCEEDED' : null;
    for (const [code, description] of [
      ['OCR_STREAM_STARTED', 'The OCR process has been started.'],
      ['FRONT_DOCUMENT_SENDED', 'The user has sent the front part of his ID document.'],
      ['BACK_DOCUMENT_SENDED', 'The user has sent the back of his ID document.'],
      ['OCR_RESULT', 'The OCR process has completed.'],
      ['BIOMETRY_STARTED', 'The biometrics process has been started.'],
      ['BIOMETRY_FINISHED', 'The biometrics process has completed.'],
      ['PROCESS_FINISHED_SUCCESSFULLY', 'The identification process has been successfully completed.'],
    ] as const)
      this.logEvent(o, code, description);
    this.end(o, 'FINISHED');
    return true;
  }

  abandon(o: Onboarding): boolean {
    if (o.status !== 'CREATED' && o.status !== 'INPROCESS') return false;
    o.errorEvent = 'USER_LEAVES_PROCESS';
    this.logEvent(o, 'PROCESS_INCOMPLETED', 'The identification process has not been completed.');
    this.end(o, 'INCOMPLETED');
    return true;
  }

  timeout(o: Onboarding): boolean {
    if (o.status !== 'CREATED' && o.status !== 'INPROCESS') return false;
    o.errorEvent = 'TIME_EXPIRED';
    this.logEvent(o, 'SESSION_EXPIRED', 'The session has expired.');
    this.end(o, 'TIMEOUT');
    return true;
  }

  /** Sends a webhook again, with the current status or an older one (to play out-of-order delivery). */
  resend(o: Onboarding, result: Status = o.status, times = 1): void {
    for (let i = 0; i < times; i++)
      this.webhooks.send(
        o.webhook,
        { onboardingId: o.onboardingId, customId: o.customId, result },
        { event: result, tag: o.onboardingId },
      );
  }

  result(o: Onboarding): Record<string, unknown> {
    const ended = o.status === 'FINISHED';
    const s = o.scenario;
    const ts = (t: number | null) =>
      t ? { date: new Date(t).toISOString().replace('T', ' ').slice(0, 19), timestamp: t } : null;
    const prefix = o.onboardingId;
    return {
      status: o.status,
      onboardingId: o.onboardingId,
      customId: o.customId,
      processStatus: {
        score: ended ? (s === 'low-score' ? 12 : s === 'biometry-failed' ? 41 : 93) : null,
        steps: {
          acceptation: ended ? s !== 'acceptation-declined' : null,
          ocr: ended ? s !== 'ocr-failed' : null,
          biometry: ended ? s !== 'biometry-failed' : null,
          sms: o.phoneStep && ended ? true : null,
        },
        startedAt: ts(o.startedAt),
        finishedAt: ts(o.finishedAt),
        errorEvent: o.errorEvent,
      },
      acceptations: o.acceptations.map((a) => ({
        text: a.text,
        accepted: ended ? s !== 'acceptation-declined' || !a.mandatory : false,
        mandatory: a.mandatory,
      })),
      evidences: ended
        ? {
            fullVideo: `${prefix}-VIDEO.mp4`,
            biometryBlink: `${prefix}-BLINK.jpg`,
            biometrySmile: `${prefix}-SMILE.jpg`,
            idDocumentFront: `${prefix}-FRONT.jpg`,
            idDocumentReverse: `${prefix}-REVERSE.jpg`,
            biometryTargetImage: `${prefix}-SELFIE.jpg`,
          }
        : {},
      ocr: ended
        ? {
            types: [
              {
                name: 'IDCARD',
                probability: 0.91,
                year: '2007-2009',
                country: 'PRT',
                id: 'PRT_IDCARD_2007-2009',
                side: 'A',
              },
            ],
            fields: [
              {
                name: 'DOCUMENT_NUMBER',
                sources: [
                  {
                    source: 'VISUAL',
                    value: o.person?.documentNumber ?? '008390126ZX2',
                    original_value: o.person?.documentNumber ?? '00839012 6ZX2',
                    probability: 0.9,
                  },
                ],
                value: o.person?.documentNumber ?? '008390126ZX2',
                validity_status: true,
                status: true,
              },
              ...(o.person?.name
                ? [
                    {
                      name: 'NAME',
                      sources: [
                        { source: 'VISUAL', value: o.person.name, original_value: o.person.name, probability: 0.9 },
                      ],
                      value: o.person.name,
                      validity_status: true,
                      status: true,
                    },
                  ]
                : []),
            ],
            images: [{ name: 'PORTRAIT', value: FAKE_JPEG.toString('base64') }],
            authenticity: [{ name: 'PATTERN_CHECKS', value: s !== 'ocr-failed' }],
            validations: [{ name: 'OVERALL', value: s !== 'ocr-failed' }],
          }
        : null,
      biometry: ended
        ? { score: s === 'biometry-failed' ? 41.2 : 99.78, blink: { success: true }, smile: { success: true } }
        : null,
      smsEvents: [],
      logs: o.logs.map((l) => ({ date: new Date(l.timestamp).toISOString(), ...l })),
      userAgent: { os: 'Sandbox OS', device: 'Sandbox', address: '127.0.0.1', browser: 'Sandbox' },
    };
  }

  evidenceZip(o: Onboarding): Buffer {
    const ev = (this.result(o).evidences ?? {}) as Record<string, string>;
    const files = Object.values(ev).map((name) => ({ name, data: FAKE_JPEG }));
    files.push({ name: `${o.onboardingId}.json`, data: Buffer.from(JSON.stringify(this.result(o))) });
    return zip(files);
  }

  stop(): void {
    for (const o of this.onboardings.values()) if (o.timer) clearTimeout(o.timer);
    this.webhooks.stop();
  }

  private end(o: Onboarding, status: Status): void {
    o.status = status;
    o.finishedAt = Date.now();
    if (o.timer) clearTimeout(o.timer);
    o.timer = null;
    this.notify(o);
  }

  private notify(o: Onboarding): void {
    if (this.webhooksEnabled) this.resend(o);
  }

  private logEvent(o: Onboarding, code: string, description: string): void {
    o.logs.push({ timestamp: Date.now(), code, description });
  }
}

// The smallest well-formed JPEG header + end marker: stands in for document photos and selfies.
const FAKE_JPEG = Buffer.from('ffd8ffe000104a46494600010100000100010000ffd9', 'hex');

function vendorError(reply: FastifyReply, status: number, code: string, message: string) {
  return reply.code(status).send({ code, message });
}

export function registerFinwaveSandbox(app: FastifyInstance, sandbox: FinwaveSandbox): void {
  registerFaults(app, sandbox.faults);
  registerLedger(app, sandbox.ledger);

  const auth = async (req: FastifyRequest, reply: FastifyReply) => {
    const token = req.headers['gestok-client-token'];
    if (token !== sandbox.options.clientToken)
      return vendorError(reply, 401, 'UNAUTHORIZED', 'missing or invalid gestok-client-token');
  };
  const find = (req: FastifyRequest, reply: FastifyReply): Onboarding | undefined => {
    const o = sandbox.onboardings.get((req.params as { id: string }).id);
    if (!o) void vendorError(reply, 404, 'NOT_FOUND', 'onboarding not found');
    return o;
  };

  app.post('/management/integrations', { preHandler: auth }, async (req, reply) => {
    const parsed = createBody.safeParse(req.body);
    if (!parsed.success) {
      const i = parsed.error.issues[0]!;
      return vendorError(
        reply,
        400,
        'BAD_REQUEST',
        i.message.includes(':') ? i.message : `${i.path.join('.')}: ${i.message}`,
      );
    }
    const { onboarding: o, repeated } = sandbox.create(parsed.data);
    if (!repeated)
      return reply.code(201).send({ onboardingId: o.onboardingId, url: sandbox.userUrl(o), status: o.status });
    return reply
      .code(200)
      .send({
        onboardingId: o.onboardingId,
        url: o.status === 'CREATED' ? sandbox.userUrl(o) : null,
        status: o.status,
      });
  });

  app.get('/management/integrations/:id/result', { preHandler: auth }, async (req, reply) => {
    const o = find(req, reply);
    if (o) return sandbox.result(o);
  });

  const evidences = async (req: FastifyRequest, reply: FastifyReply) => {
    const o = find(req, reply);
    if (!o) return;
    if (o.status !== 'FINISHED')
      return vendorError(reply, 409, 'PROCESS_NOT_FINISHED', 'evidences are available once the process is FINISHED');
    return reply
      .type('application/zip')
      .header('content-disposition', `attachment; filename="${o.onboardingId}.zip"`)
      .send(sandbox.evidenceZip(o));
  };
  app.get('/management/integrations/:id/evidences', { preHandler: auth }, evidences);
  app.post('/management/integrations/:id/evidences', { preHandler: auth }, evidences);

  // ---- Control surface: plays the end user. ----

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
          return reply
            .code(400)
            .send({
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
            result: z.enum(['CREATED', 'INPROCESS', 'INCOMPLETED', 'TIMEOUT', 'FINISHED']).optional(),
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
      return reply
        .code(409)
        .send({
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
