/**
 * A development receiver for our notifications: plays the integrator's backend. Register
 * `<sandbox>/receiver/<name>` as an endpoint, give the receiver the secret the API showed once, and
 * it verifies every delivery with the `standardwebhooks` library (as docs/notifications.md#verifying-signatures tells integrators to)
 * and keeps what it received, verified or not, for `GET /receiver/<name>`.
 *
 *   PUT  /receiver/<name>/_secret  {"secrets":["whsec_…"]}     secrets it accepts (any of them verifies)
 *   PUT  /receiver/<name>/_answer  {"status":503,"delayMs":0,"retryAfter":"120"}   how it answers (a receiver down, 410, slow)
 *   GET  /receiver/<name>                                     what arrived: id, type, sequence, verified, answered
 *   POST /receiver/<name>                                     the endpoint itself
 */
import type { FastifyInstance } from 'fastify';
import { Webhook } from 'standardwebhooks';

export interface ReceivedNotification {
  receivedAt: string;
  webhookId: string | null;
  /** True when one of the configured secrets verified the signature (and the timestamp is within 5 minutes). */
  verified: boolean;
  /** Why verification failed, when it did. */
  error?: string;
  answered: number;
  type?: string;
  sequence?: number;
  verificationId?: string;
  body: unknown;
  /** Exactly as received, to verify again (the webhook-* headers and the raw body). */
  raw: { headers: Record<string, string>; body: string };
}

interface Inbox {
  secrets: string[];
  answer: { status: number; delayMs: number; retryAfter?: string };
  received: ReceivedNotification[];
  /** Requests held open by a slow answer (tests release them). */
  waiting: number;
}

// Enough for a long load run: hundreds of flows, several events each, duplicates included.
const MAX_KEPT = 20_000;

export class NotificationReceiver {
  readonly inboxes = new Map<string, Inbox>();

  inbox(name: string): Inbox {
    let i = this.inboxes.get(name);
    if (!i)
      this.inboxes.set(name, (i = { secrets: [], answer: { status: 200, delayMs: 0 }, received: [], waiting: 0 }));
    return i;
  }

  /** Verifies as an integrator would: each configured secret in turn, with the library. */
  receive(name: string, rawBody: string, headers: Record<string, string | string[] | undefined>): ReceivedNotification {
    const inbox = this.inbox(name);
    const h = Object.fromEntries(
      Object.entries(headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')]),
    );
    let verified = false;
    let error = inbox.secrets.length ? undefined : 'no secret configured';
    for (const secret of inbox.secrets) {
      try {
        new Webhook(secret).verify(rawBody, h);
        verified = true;
        error = undefined;
        break;
      } catch (err) {
        error = (err as Error).message;
      }
    }
    let body: unknown = rawBody;
    try {
      body = JSON.parse(rawBody);
    } catch {
      /* kept as text */
    }
    const b = body as { type?: string; sequence?: number; data?: { verificationId?: string } };
    const got: ReceivedNotification = {
      receivedAt: new Date().toISOString(),
      webhookId: h['webhook-id'] || null,
      verified,
      ...(error ? { error } : {}),
      answered: inbox.answer.status,
      type: b?.type,
      sequence: b?.sequence,
      verificationId: b?.data?.verificationId,
      body,
      raw: { headers: Object.fromEntries(Object.entries(h).filter(([k]) => k.startsWith('webhook-'))), body: rawBody },
    };
    inbox.received.push(got);
    if (inbox.received.length > MAX_KEPT) inbox.received.shift();
    return got;
  }
}

export function registerNotificationReceiver(app: FastifyInstance, receiver: NotificationReceiver): void {
  // The signature covers the exact bytes: keep the body as received.
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: 1024 * 1024 }, (_req, body, done) =>
    done(null, body),
  );
  const name = (p: unknown) => String((p as { name: string }).name).slice(0, 64);

  // Bodies are the parser's string (application/json above, Fastify's text/plain) or none.
  app.post<{ Body: string | undefined }>('/:name', async (req, reply) => {
    const inbox = receiver.inbox(name(req.params));
    const { status, delayMs, retryAfter } = inbox.answer;
    receiver.receive(name(req.params), String(req.body ?? ''), req.headers);
    if (delayMs > 0) {
      inbox.waiting += 1;
      await new Promise((r) => setTimeout(r, delayMs));
      inbox.waiting -= 1;
    }
    if (retryAfter) void reply.header('retry-after', retryAfter);
    return reply.code(status).send({ ok: status < 300 });
  });
  app.get('/:name', async (req) => {
    const inbox = receiver.inbox(name(req.params));
    return { answer: inbox.answer, received: inbox.received };
  });
  app.put<{ Body: string | undefined }>('/:name/_secret', async (req) => {
    const secrets = (req.body ? JSON.parse(String(req.body)) : {}) as { secrets?: unknown };
    const list = Array.isArray(secrets.secrets)
      ? secrets.secrets.filter((s): s is string => typeof s === 'string')
      : [];
    receiver.inbox(name(req.params)).secrets = list;
    return { secrets: list.length };
  });
  app.put<{ Body: string | undefined }>('/:name/_answer', async (req) => {
    const a = (req.body ? JSON.parse(String(req.body)) : {}) as {
      status?: number;
      delayMs?: number;
      retryAfter?: string;
    };
    const inbox = receiver.inbox(name(req.params));
    inbox.answer = {
      status: Number(a.status ?? 200),
      delayMs: Math.min(Number(a.delayMs ?? 0), 60_000),
      ...(a.retryAfter ? { retryAfter: String(a.retryAfter) } : {}),
    };
    return inbox.answer;
  });
}
