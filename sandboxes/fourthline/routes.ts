/**
 * The Fourthline sandbox's vendor API: the endpoints of activities/fourthline/api.ts, served with their
 * checks (auth, body shape, the state each call needs, the windows) over the model in ./model.ts.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import type { z } from 'zod';
import {
  approvalRequest,
  attemptResponse,
  caseResponse,
  confirmationRequest,
  createWorkflowRequest,
  documentsRequest,
  FOURTHLINE_API,
  identityDataRequest,
  identityFilesRequest,
  mobileNumberRequest,
  selfieRequest,
  signatureDetailsResponse,
  signatureStatusResponse,
  tokenResponse,
  workflowResponse,
  type FourthlineError,
  type FourthlineOperation,
} from '../../activities/fourthline/api';
import { answer } from '../framework/answer';
import { registerFaults } from '../framework/faults';
import { registerLedger } from '../framework/ledger';
import { registerFourthlineControl } from './control';
import { cddReport, signedPdf } from './documents';
import type { FourthlineSandbox } from './model';
import { FOURTHLINE_CLOCKS, LEGAL_CONDITIONS } from './types';

function vendorError(reply: FastifyReply, status: number, code: string, message: string) {
  return reply.code(status).send({ code, message } satisfies FourthlineError);
}

export function registerFourthlineSandbox(app: FastifyInstance, sandbox: FourthlineSandbox): void {
  registerFaults(app, sandbox.faults);
  registerLedger(app, sandbox.ledger);
  // Fourthline's token endpoint takes a form post (OAuth 2 client credentials); JSON works too.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(String(body))));
  });

  const auth = async (req: FastifyRequest, reply: FastifyReply) => {
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    if (!m || !sandbox.tokenValid(m[1]!))
      return vendorError(reply, 401, 'UNAUTHORIZED', 'missing or expired access token');
  };
  const parse = <T>(schema: z.ZodType<T>, req: FastifyRequest, reply: FastifyReply): T | undefined => {
    const p = schema.safeParse(req.body ?? {});
    if (p.success) return p.data;
    const i = p.error.issues[0]!;
    void vendorError(reply, 400, 'BAD_REQUEST', `${i.path.join('.') || 'body'}: ${i.message}`);
    return undefined;
  };
  const findCase = (req: FastifyRequest, reply: FastifyReply) => {
    const c = sandbox.cases.get((req.params as { id: string }).id);
    if (!c) void vendorError(reply, 404, 'NOT_FOUND', 'verification not found');
    return c;
  };
  const findSig = (req: FastifyRequest, reply: FastifyReply, op: string) => {
    const s = sandbox.signatures.get((req.params as { id: string }).id);
    if (!s) void vendorError(reply, 404, 'NOT_FOUND', 'signature not found');
    else {
      sandbox.tick();
      const call = { at: new Date(sandbox.now()).toISOString(), op, status: 0 };
      s.calls.push(call);
      reply.raw.once('finish', () => (call.status = reply.statusCode));
    }
    return s;
  };
  const unprocessable = (reply: FastifyReply, code: string, message: string) => vendorError(reply, 422, code, message);
  const route = (op: FourthlineOperation, preHandler: typeof auth | null, handler: RouteHandlerMethod) =>
    app.route({
      method: FOURTHLINE_API[op].method,
      url: FOURTHLINE_API[op].path,
      ...(preHandler ? { preHandler } : {}),
      handler,
    });

  route('createAccessToken', null, async (req, reply) => {
    const body = (req.body ?? {}) as Record<string, string | undefined>;
    let id = body.client_id;
    let secret = body.client_secret;
    const basic = /^Basic (\S+)$/.exec(req.headers.authorization ?? '');
    if (basic) [id, secret] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':');
    if (body.grant_type !== 'client_credentials') return reply.code(400).send({ error: 'unsupported_grant_type' });
    if (id !== sandbox.options.clientId || secret !== sandbox.options.clientSecret)
      return reply.code(401).send({ error: 'invalid_client' });
    return answer(tokenResponse, sandbox.issueToken());
  });

  route('createWorkflow', auth, async (req, reply) => {
    const body = parse(createWorkflowRequest, req, reply);
    if (!body) return;
    const created = sandbox.createWorkflow(body.workflowName, body.clientReference, body.verificationId);
    if (typeof created === 'string') return unprocessable(reply, 'INVALID_VERIFICATION', created);
    return reply.code(201).send(answer(workflowResponse, created));
  });

  // ---- Identity verification case ----
  route('uploadIdentityData', auth, async (req, reply) => {
    const c = findCase(req, reply);
    if (!c) return;
    const body = parse(identityDataRequest, req, reply);
    if (!body) return;
    if (c.status !== 'new')
      return unprocessable(
        reply,
        'INVALID_STATUS',
        `identity data can be changed while the case is new, not ${c.status}`,
      );
    sandbox.setIdentityData(c, body);
    return reply.code(204).send();
  });
  route('uploadIdentityFiles', auth, async (req, reply) => {
    const c = findCase(req, reply);
    if (!c) return;
    const body = parse(identityFilesRequest, req, reply);
    if (!body) return;
    if (!c.identityData) return unprocessable(reply, 'IDENTITY_DATA_MISSING', 'upload identity data first');
    if (c.status !== 'new')
      return unprocessable(reply, 'INVALID_STATUS', `files are uploaded while the case is new, not ${c.status}`);
    sandbox.uploadIdentityFiles(c, body.files.length);
    return reply.code(204).send();
  });
  route('startProcessing', auth, async (req, reply) => {
    const c = findCase(req, reply);
    if (!c) return;
    if (c.status !== 'pending')
      return unprocessable(reply, 'INVALID_STATUS', `processing starts from pending, not ${c.status}`);
    if (!c.processingStarted) sandbox.startProcessing(c);
    return reply.code(204).send();
  });
  route('getCase', auth, async (req, reply) => {
    sandbox.tick();
    const c = findCase(req, reply);
    if (!c) return;
    return answer(caseResponse, {
      verificationId: c.verificationId,
      clientId: c.clientId,
      clientReference: c.clientReference,
      status: c.status,
      riskScore: c.riskScore,
      statusCode: c.statusCode,
      updatedAt: new Date(c.updatedAt).toISOString(),
    });
  });
  route('getCddReport', auth, async (req, reply) => {
    const c = findCase(req, reply);
    if (!c) return;
    if (c.status !== 'completed')
      return unprocessable(reply, 'CASE_NOT_COMPLETED', 'the CDD report exists once the case is completed');
    return reply
      .type('application/zip')
      .header('content-disposition', `attachment; filename="cdd-${c.verificationId}.zip"`)
      .send(cddReport(c));
  });

  // ---- Qualified electronic signature ----
  route('uploadDocuments', auth, async (req, reply) => {
    const s = findSig(req, reply, 'uploadDocuments');
    if (!s) return;
    const body = parse(documentsRequest, req, reply);
    if (!body) return;
    if (s.status !== 'pending')
      return unprocessable(
        reply,
        'INVALID_STATUS',
        `documents are uploaded while the signature is pending, not ${s.status}`,
      );
    s.documents = body.documents.map((d, i) => ({
      documentId: `doc-${i + 1}`,
      name: d.name,
      bytes: Buffer.from(d.contentBase64, 'base64'),
    }));
    sandbox.ledger.record('documents-uploaded', s.signatureId, s.signatureId);
    return reply.code(204).send();
  });
  route('uploadMobileNumber', auth, async (req, reply) => {
    const s = findSig(req, reply, 'uploadMobileNumber');
    if (!s) return;
    const body = parse(mobileNumberRequest, req, reply);
    if (!body) return;
    if (s.status !== 'pending')
      return unprocessable(
        reply,
        'INVALID_STATUS',
        `the mobile number is uploaded while the signature is pending, not ${s.status}`,
      );
    if (!s.documents.length) return unprocessable(reply, 'DOCUMENTS_MISSING', 'upload the documents to sign first');
    sandbox.uploadMobile(s, body.mobileNumber);
    return reply.code(204).send();
  });
  route('getSignatureDetails', auth, async (req, reply) => {
    const s = findSig(req, reply, 'getDetails');
    if (!s) return;
    const c = sandbox.cases.get(s.verificationId)!;
    const language = (req.query as { language?: string }).language ?? 'fr';
    return answer(signatureDetailsResponse, {
      signatureId: s.signatureId,
      verificationId: s.verificationId,
      clientId: c.clientId,
      status: s.status,
      mobileNumber: s.mobileNumber,
      documents: s.documents.map((d) => ({ documentId: d.documentId, name: d.name, size: d.bytes.length })),
      legalConditions: LEGAL_CONDITIONS.map((l) => ({
        ...l,
        language,
        url: `https://sandbox.fourthline.invalid/legal/${l.id}/${l.version}/${language}`,
      })),
      passcode: {
        length: 6,
        validitySeconds: FOURTHLINE_CLOCKS.passcodeValidityMs / 1000,
        sentAt: s.passcodeSentAt ? new Date(s.passcodeSentAt).toISOString() : null,
        resendsLeft: FOURTHLINE_CLOCKS.maxResends - s.resends,
      },
    });
  });
  route('approve', auth, async (req, reply) => {
    const s = findSig(req, reply, 'approve');
    if (!s) return;
    const body = parse(approvalRequest, req, reply);
    if (!body) return;
    if (s.status !== 'user_consent_required')
      return unprocessable(reply, 'INVALID_STATUS', `approval needs user_consent_required, not ${s.status}`);
    if (sandbox.now() - s.consentRequiredAt! > FOURTHLINE_CLOCKS.approvalWindowMs)
      return unprocessable(reply, 'APPROVAL_EXPIRED', 'the 2 hour approval window has expired');
    const docs = new Set(body.documentIds);
    if (s.documents.some((d) => !docs.has(d.documentId)))
      return unprocessable(reply, 'DOCUMENTS_NOT_APPROVED', 'every document to sign must be approved');
    const accepted = new Set(body.legalConditions.map((l) => `${l.id}@${l.version}`));
    if (LEGAL_CONDITIONS.some((l) => !accepted.has(`${l.id}@${l.version}`)))
      return unprocessable(reply, 'LEGAL_CONDITIONS_NOT_ACCEPTED', 'the current legal conditions must be accepted');
    return answer(attemptResponse, { attemptId: sandbox.approve(s) });
  });
  route('confirm', auth, async (req, reply) => {
    const s = findSig(req, reply, 'confirm');
    if (!s) return;
    const body = parse(confirmationRequest, req, reply);
    if (!body) return;
    if (s.status !== 'confirmation_required')
      return unprocessable(reply, 'INVALID_STATUS', `confirmation needs confirmation_required, not ${s.status}`);
    const now = sandbox.now();
    if (now - s.confirmationRequiredAt! > FOURTHLINE_CLOCKS.confirmationWindowMs)
      return unprocessable(reply, 'CONFIRMATION_EXPIRED', 'the 1 hour confirmation window has expired');
    if (now - s.passcodeSentAt! > FOURTHLINE_CLOCKS.passcodeValidityMs)
      return unprocessable(reply, 'PASSCODE_EXPIRED', 'the passcode has expired');
    if (body.passcode !== s.passcode) return unprocessable(reply, 'INVALID_PASSCODE', 'the passcode is not valid');
    return answer(attemptResponse, { attemptId: sandbox.confirm(s) });
  });
  route('resendPasscode', auth, async (req, reply) => {
    const s = findSig(req, reply, 'resendPasscode');
    if (!s) return;
    if (s.status !== 'confirmation_required')
      return unprocessable(reply, 'INVALID_STATUS', `a passcode is resent in confirmation_required, not ${s.status}`);
    if (s.resends >= FOURTHLINE_CLOCKS.maxResends)
      return unprocessable(reply, 'RESEND_LIMIT_REACHED', 'the passcode can be resent at most 4 times');
    s.resends++;
    sandbox.sendPasscode(s);
    return reply.code(204).send();
  });
  route('uploadSelfie', auth, async (req, reply) => {
    const s = findSig(req, reply, 'uploadSelfie');
    if (!s) return;
    const body = parse(selfieRequest, req, reply);
    if (!body) return;
    if (s.status !== 'selfie_required')
      return unprocessable(reply, 'INVALID_STATUS', `a selfie is uploaded in selfie_required, not ${s.status}`);
    sandbox.uploadSelfie(s);
    return reply.code(204).send();
  });
  route('getSignatureStatus', auth, async (req, reply) => {
    const s = findSig(req, reply, 'getStatus');
    if (!s) return;
    return answer(signatureStatusResponse, { signatureId: s.signatureId, status: s.status, statusCode: s.statusCode });
  });
  route('getSignedDocument', auth, async (req, reply) => {
    const s = findSig(req, reply, 'getSignedDocument');
    if (!s) return;
    if (s.status !== 'signed')
      return unprocessable(reply, 'NOT_SIGNED', 'signed documents exist once the signature is signed');
    const pdf = signedPdf(s, (req.params as { documentId: string }).documentId);
    if (!pdf) return vendorError(reply, 404, 'NOT_FOUND', 'document not found');
    return reply.type('application/pdf').send(pdf);
  });
  route('getInfoCertContract', auth, async (req, reply) => {
    const s = findSig(req, reply, 'getInfoCertContract');
    if (!s) return;
    if (s.status !== 'signed')
      return unprocessable(reply, 'NOT_SIGNED', 'the contract exists once the signature is signed');
    const c = sandbox.cases.get(s.verificationId)!;
    if (c.scenario !== 'infocert') return reply.code(204).send();
    return reply
      .type('application/pdf')
      .send(Buffer.from(`%PDF-1.4\n%% InfoCert contract for ${s.signatureId} (sandbox)\n%%EOF\n`));
  });

  registerFourthlineControl(app, sandbox);
}
