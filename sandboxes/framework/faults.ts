/**
 * Fault injection, per vendor: the next N vendor API calls answer 5xx / 4xx / 429, answer slowly, or have
 * their connection dropped. Control paths (`/_sandbox`) are never affected.
 * `dropAfterHandling` lets the vendor do the work (consume a one-time code, create a resource) and
 * then drops the connection instead of answering: the caller never learns that it succeeded.
 * `answerLate` lets the vendor do the work, then holds the answer `delayMs` (longer than the caller
 * waits: the caller times out, the work is done). `webhookFirst` lets the vendor do the work, then
 * holds the answer until the webhook / callback about it had its first delivery attempt (at most
 * `delayMs`): the receiver hears of a resource before the caller that created it.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';

export const faultSchema = z.object({
  mode: z.enum(['5xx', '4xx', '429', 'slow', 'drop', 'dropAfterHandling', 'answerLate', 'webhookFirst']),
  /** How many matching calls get the fault. */
  times: z.number().int().min(1).max(1000).default(1),
  /** Only calls whose path contains this string. */
  path: z.string().optional(),
  /** Only calls with this HTTP method. */
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).optional(),
  /** For `slow`: how long to wait before answering; `answerLate`: how long the applied call's answer is held; `webhookFirst`: the longest hold. */
  delayMs: z.number().int().min(0).max(120_000).default(3000),
  retryAfterSeconds: z.number().int().min(0).max(600).default(1),
  /** For `5xx` (default 503) and `4xx` (default 400). */
  status: z.number().int().min(400).max(599).optional(),
  /** For `4xx`: the vendor error code in the body. */
  code: z.string().max(64).default('SANDBOX_REJECTED'),
  /**
   * Each matching call gets the fault with this probability (default 1: every one, until `times` ran
   * out). Draws come from a PRNG seeded with `seed`, so the same seed injects the same sequence.
   */
  probability: z.number().min(0).max(1).optional(),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1)
    .optional(),
});
export type Fault = z.infer<typeof faultSchema>;

/** How a vendor shapes its error bodies; the default is `{ code, message }`. */
export type FaultErrorBody = (status: number, code: string, message: string) => unknown;

/** mulberry32: a small seeded PRNG (uniform in [0, 1)). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type PendingFault = Fault & { left: number; draw: () => number };

export class FaultInjector {
  private faults: PendingFault[] = [];
  /** Requests that will be handled, then dropped before the answer leaves (`dropAfterHandling`). */
  private readonly dropAfter = new WeakSet<FastifyRequest>();

  constructor(private readonly errorBody: FaultErrorBody = (_status, code, message) => ({ code, message })) {}

  /** Requests whose answer is held after handling (`answerLate`, `webhookFirst`): since when, how long at most. */
  private readonly held = new WeakMap<
    FastifyRequest,
    { mode: 'answerLate' | 'webhookFirst'; since: number; delayMs: number }
  >();
  /**
   * For `webhookFirst`: the vendor sends the webhook / callback about what `req` created (when it would
   * not anyway), and answers once a delivery attempt started at or after `since` has finished. Vendors
   * without webhooks leave it unset (the fault then holds nothing).
   */
  webhookFirst?: (req: FastifyRequest, since: number, maxMs: number) => Promise<void>;

  /** Whether this request's answer must be dropped (see `dropAfterHandling`). */
  dropsAnswerOf(req: FastifyRequest): boolean {
    return this.dropAfter.has(req);
  }

  /** Whether `req` carries a `webhookFirst` fault (the vendor's handler may send the webhook it implies). */
  callsBackFirst(req: FastifyRequest): boolean {
    return this.held.get(req)?.mode === 'webhookFirst';
  }

  /** Holds an applied request's answer as its fault says (`answerLate`, `webhookFirst`). */
  async holdAnswerOf(req: FastifyRequest): Promise<void> {
    const h = this.held.get(req);
    if (!h) return;
    if (h.mode === 'answerLate') await new Promise((r) => setTimeout(r, h.delayMs));
    else await this.webhookFirst?.(req, h.since, h.delayMs);
  }
  readonly injected: { at: string; mode: Fault['mode']; path: string }[] = [];

  add(fault: Fault): void {
    const draw = fault.seed === undefined ? Math.random : seededRandom(fault.seed);
    this.faults.push({ ...fault, left: fault.times, draw });
  }

  clear(): void {
    this.faults = [];
  }

  pending(): (Fault & { left: number })[] {
    return this.faults.map(({ draw: _draw, ...f }) => f);
  }

  /** Returns true when the request was answered (or dropped) by a fault. */
  async apply(req: FastifyRequest, reply: FastifyReply): Promise<boolean> {
    const path = req.url;
    if (path.includes('/_sandbox')) return false;
    // A fault with a probability below 1 draws for each matching call; a miss lets the next fault draw.
    const fault = this.faults.find(
      (f) =>
        f.left > 0 &&
        (!f.path || path.includes(f.path)) &&
        (!f.method || f.method === req.method) &&
        (f.probability === undefined || f.probability >= 1 || f.draw() < f.probability),
    );
    if (!fault) return false;
    fault.left--;
    this.faults = this.faults.filter((f) => f.left > 0);
    this.injected.push({ at: new Date().toISOString(), mode: fault.mode, path });
    switch (fault.mode) {
      case '5xx':
        await reply
          .code(fault.status ?? 503)
          .send(this.errorBody(fault.status ?? 503, 'SANDBOX_FAULT', 'injected server error'));
        return true;
      case '4xx':
        await reply
          .code(fault.status ?? 400)
          .send(this.errorBody(fault.status ?? 400, fault.code, 'injected client error'));
        return true;
      case '429':
        await reply
          .code(429)
          .header('retry-after', String(fault.retryAfterSeconds))
          .send(this.errorBody(429, 'TOO_MANY_REQUESTS', 'injected rate limit'));
        return true;
      case 'drop':
        req.raw.socket.destroy();
        return true;
      case 'dropAfterHandling':
        this.dropAfter.add(req);
        return false;
      case 'slow':
        await new Promise((r) => setTimeout(r, fault.delayMs));
        return false;
      case 'answerLate':
      case 'webhookFirst':
        this.held.set(req, { mode: fault.mode, since: Date.now(), delayMs: fault.delayMs });
        return false;
    }
  }
}

/** Adds `/_sandbox/faults` (GET, POST, DELETE) under the vendor's prefix and the hook that applies them. */
export function registerFaults(app: FastifyInstance, faults: FaultInjector): void {
  app.addHook('onRequest', async (req, reply) => {
    if (await faults.apply(req, reply)) return reply;
  });
  app.addHook('onSend', async (req, _reply, payload) => {
    await faults.holdAnswerOf(req);
    if (faults.dropsAnswerOf(req)) req.raw.socket.destroy();
    return payload;
  });
  app.get('/_sandbox/faults', async () => ({ pending: faults.pending(), injected: faults.injected }));
  app.post('/_sandbox/faults', async (req, reply) => {
    const parsed = faultSchema.safeParse(req.body ?? {});
    if (!parsed.success)
      return reply.code(400).send({ error: { code: 'invalid_fault', message: parsed.error.issues[0]!.message } });
    faults.add(parsed.data);
    return reply.code(201).send({ pending: faults.pending() });
  });
  app.delete('/_sandbox/faults', async () => {
    faults.clear();
    return { pending: [] };
  });
}
