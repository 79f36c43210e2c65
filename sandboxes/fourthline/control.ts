/**
 * The Fourthline sandbox's control surface (never part of Fourthline's API): plays the end user and the
 * vendor's back office: the vendor clock, tokens, case completion, the passcode SMS, recoveries,
 * repeated webhooks and settings. See sandboxes/README.md.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { FourthlineSandbox } from './model';

const HOUR = 3_600_000;

export function registerFourthlineControl(app: FastifyInstance, sandbox: FourthlineSandbox): void {
  const findCase = (req: FastifyRequest, reply: FastifyReply) => {
    const c = sandbox.cases.get((req.params as { id: string }).id);
    if (!c) void reply.code(404).send({ code: 'NOT_FOUND', message: 'verification not found' });
    return c;
  };
  app.post('/_sandbox/clock', async (req, reply) => {
    const p = z
      .object({
        advanceMs: z
          .number()
          .int()
          .min(0)
          .max(30 * 24 * HOUR),
      })
      .safeParse(req.body);
    if (!p.success)
      return reply.code(400).send({ error: { code: 'invalid_clock', message: 'body: { "advanceMs": <ms> }' } });
    sandbox.advance(p.data.advanceMs);
    return { now: new Date(sandbox.now()).toISOString(), offsetMs: sandbox.offsetMs };
  });
  app.post('/_sandbox/tokens/expire', async () => {
    sandbox.expireTokens();
    return { expired: sandbox.tokens.size };
  });
  app.get('/_sandbox/verifications/:id', async (req, reply) => {
    const c = findCase(req, reply);
    if (!c) return;
    return {
      verificationId: c.verificationId,
      flow: c.flow,
      status: c.status,
      riskScore: c.riskScore,
      scenario: c.scenario,
      signatures: sandbox.signaturesOf(c).map((s) => s.signatureId),
      webhookDeliveries: sandbox.webhooks.log.filter((d) => d.tag === c.verificationId),
    };
  });
  app.post('/_sandbox/verifications/:id/complete', async (req, reply) => {
    const c = findCase(req, reply);
    if (!c) return;
    if (c.status !== 'pending')
      return reply.code(409).send({ error: { code: 'invalid_transition', message: `the case is ${c.status}` } });
    sandbox.completeCase(c);
    return { verificationId: c.verificationId, status: c.status };
  });
  const findSigControl = (req: FastifyRequest, reply: FastifyReply) => {
    const s = sandbox.signatures.get((req.params as { id: string }).id);
    if (!s) void reply.code(404).send({ error: { code: 'not_found', message: 'signature not found' } });
    return s;
  };
  app.get('/_sandbox/signatures/:id', async (req, reply) => {
    const s = findSigControl(req, reply);
    if (!s) return;
    return {
      signatureId: s.signatureId,
      verificationId: s.verificationId,
      attempt: s.attempt,
      status: s.status,
      statusCode: s.statusCode,
      resends: s.resends,
      approvals: s.approvals,
      confirmations: s.confirmations,
      calls: s.calls,
      webhookDeliveries: sandbox.webhooks.log.filter((d) => d.tag === s.signatureId),
    };
  });
  /** The client's phone: the passcode SMS. */
  app.get('/_sandbox/signatures/:id/sms', async (req, reply) => {
    const s = findSigControl(req, reply);
    if (!s) return;
    if (!s.passcode) return reply.code(404).send({ error: { code: 'no_sms', message: 'no passcode sent yet' } });
    return { passcode: s.passcode, sentAt: new Date(s.passcodeSentAt!).toISOString(), resends: s.resends };
  });
  app.post('/_sandbox/signatures/:id/recover', async (req, reply) => {
    const s = findSigControl(req, reply);
    if (!s) return;
    if (!sandbox.recover(s))
      return reply
        .code(409)
        .send({ error: { code: 'invalid_transition', message: `nothing to recover from in ${s.status}` } });
    return { signatureId: s.signatureId, status: s.status };
  });
  app.post('/_sandbox/signatures/:id/webhook', async (req, reply) => {
    const s = findSigControl(req, reply);
    if (!s) return;
    const p = z
      .object({ status: z.string().optional(), times: z.number().int().min(1).max(20).default(1) })
      .safeParse(req.body ?? {});
    if (!p.success)
      return reply.code(400).send({ error: { code: 'invalid_webhook', message: p.error.issues[0]!.message } });
    for (let i = 0; i < p.data.times; i++) sandbox.notifySignature(s, p.data.status);
    return { signatureId: s.signatureId, status: s.status };
  });
  app.post('/_sandbox/settings', async (req, reply) => {
    const p = z
      .object({
        webhooks: z.enum(['on', 'off']).optional(),
        processingMs: z.number().int().min(0).max(600_000).optional(),
        recoverAfterMs: z.number().int().min(0).max(600_000).nullable().optional(),
      })
      .safeParse(req.body ?? {});
    if (!p.success)
      return reply.code(400).send({ error: { code: 'invalid_settings', message: p.error.issues[0]!.message } });
    if (p.data.webhooks) sandbox.webhooksEnabled = p.data.webhooks === 'on';
    if (p.data.processingMs !== undefined) sandbox.processingMs = p.data.processingMs;
    if (p.data.recoverAfterMs !== undefined) sandbox.recoverAfterMs = p.data.recoverAfterMs;
    return {
      webhooks: sandbox.webhooksEnabled ? 'on' : 'off',
      processingMs: sandbox.processingMs,
      recoverAfterMs: sandbox.recoverAfterMs,
    };
  });
}
