/**
 * The Finwave sandbox's vendor API: the endpoints of activities/finwave/api.ts under `/management`, with
 * their checks (token, body shape, evidences once FINISHED) over the model in ./model.ts.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import {
  createIntegrationRequest,
  createIntegrationResponse,
  FINWAVE_API,
  FINWAVE_BASE_PATH,
  FINWAVE_TOKEN_HEADER,
  type FinwaveError,
} from '../../activities/finwave/api';
import { answer } from '../framework/answer';
import { registerFaults } from '../framework/faults';
import { registerLedger } from '../framework/ledger';
import { registerFinwaveControl } from './control';
import type { FinwaveSandbox } from './model';
import type { Onboarding } from './types';

function vendorError(reply: FastifyReply, status: number, code: string, message: string) {
  return reply.code(status).send({ code, message } satisfies FinwaveError);
}

export function registerFinwaveSandbox(app: FastifyInstance, sandbox: FinwaveSandbox): void {
  registerFaults(app, sandbox.faults);
  registerLedger(app, sandbox.ledger);

  const auth = async (req: FastifyRequest, reply: FastifyReply) => {
    const token = req.headers[FINWAVE_TOKEN_HEADER];
    if (token !== sandbox.options.clientToken)
      return vendorError(reply, 401, 'UNAUTHORIZED', 'missing or invalid gestok-client-token');
  };
  const find = (req: FastifyRequest, reply: FastifyReply): Onboarding | undefined => {
    const o = sandbox.onboardings.get((req.params as { onboardingId: string }).onboardingId);
    if (!o) void vendorError(reply, 404, 'NOT_FOUND', 'onboarding not found');
    return o;
  };
  const route = (op: keyof typeof FINWAVE_API, handler: RouteHandlerMethod) =>
    app.route({
      method: FINWAVE_API[op].method,
      url: `${FINWAVE_BASE_PATH}${FINWAVE_API[op].path}`,
      preHandler: auth,
      handler,
    });

  route('createIntegration', async (req, reply) => {
    const parsed = createIntegrationRequest.safeParse(req.body);
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
      return reply.code(201).send(
        answer(createIntegrationResponse, {
          onboardingId: o.onboardingId,
          url: sandbox.userUrl(o),
          status: o.status,
        }),
      );
    return reply.code(200).send(
      answer(createIntegrationResponse, {
        onboardingId: o.onboardingId,
        url: o.status === 'CREATED' ? sandbox.userUrl(o) : null,
        status: o.status,
      }),
    );
  });

  route('getResult', async (req, reply) => {
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
  route('downloadEvidence', evidences);
  route('downloadEvidencePost', evidences);

  registerFinwaveControl(app, sandbox);
}
