/**
 * The ID360 sandbox's vendor API: the endpoints of activities/id360/api.ts, each under both spellings of
 * its path, with their checks (token or api_key, body shape, the step order the flow needs, upload
 * formats and sizes) over the model in ./model.ts.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import {
  createEnrollmentRequest,
  enrollmentInfoResponse,
  ID360_API,
  ID360_API_PREFIX,
  ID360_DATA_NAMES,
  ID360_MAX_UPLOAD_BYTES,
  loginResponse,
  type Id360Error,
} from '../../activities/id360/api';
import { answer } from '../framework/answer';
import { registerFaults } from '../framework/faults';
import { registerLedger } from '../framework/ledger';
import { registerId360Control } from './control';
import { report, reportPdf, sniffFormat } from './documents';
import type { Id360Sandbox } from './model';
import { FINAL, type Enrollment } from './types';

function vendorError(reply: FastifyReply, status: number, code: string, detail: string) {
  return reply.code(status).send({ detail, code } satisfies Id360Error);
}

export function registerId360Sandbox(app: FastifyInstance, sandbox: Id360Sandbox): void {
  registerFaults(app, sandbox.faults);
  registerLedger(app, sandbox.ledger);
  // Uploads are raw bytes with whatever content type the client sends (curl --data-binary: form-urlencoded).
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 20 * 1024 * 1024 }, (_req, body, done) =>
    done(null, body),
  );

  app.addHook('onRequest', async (req) => {
    if (!req.url.includes('/_sandbox') && req.url.includes(ID360_API_PREFIX)) sandbox.stats.total++;
  });

  const tokenAuth = async (req: FastifyRequest, reply: FastifyReply) => {
    const m = /^Token (\S+)$/.exec(req.headers.authorization ?? '');
    if (!m) {
      sandbox.stats.unauthorized++;
      return reply
        .code(401)
        .header('www-authenticate', 'Token')
        .send({ detail: 'Authentication credentials were not provided.', code: 'NOT_AUTHENTICATED' });
    }
    const state = sandbox.useToken(m[1]!);
    if (state !== 'ok') {
      sandbox.stats.unauthorized++;
      return reply
        .code(401)
        .header('www-authenticate', 'Token')
        .send({ detail: 'Invalid token.', code: state === 'expired' ? 'TOKEN_EXPIRED' : 'INVALID_TOKEN' });
    }
    sandbox.stats.tokenCalls++;
  };
  const apiKeyAuth = async (req: FastifyRequest, reply: FastifyReply) => {
    const key = req.headers['x-api-key'];
    const e = typeof key === 'string' ? sandbox.byApiKey(key) : undefined;
    if (!e) {
      sandbox.stats.unauthorized++;
      return reply.code(401).send({ detail: 'Invalid api key.', code: 'INVALID_API_KEY' });
    }
    sandbox.stats.apiKeyCalls++;
    (req as FastifyRequest & { enrollment?: Enrollment }).enrollment = e;
  };
  const enrollmentOf = (req: FastifyRequest) => (req as FastifyRequest & { enrollment: Enrollment }).enrollment;
  const byId = (req: FastifyRequest, reply: FastifyReply): Enrollment | undefined => {
    const e = sandbox.find(String((req.params as { id: string }).id));
    if (!e || !/^\d+$/.test((req.params as { id: string }).id)) void vendorError(reply, 404, 'NOT_FOUND', 'Not found.');
    return e;
  };
  /** Both spellings: the doc writes some paths with the trailing slash and some without. */
  const both = (path: string) => (path.endsWith('/') ? [path, path.slice(0, -1)] : [path, `${path}/`]);
  const serve = (
    op: keyof typeof ID360_API,
    preHandler: typeof tokenAuth | null,
    handler: RouteHandlerMethod,
    options: { bodyLimit?: number } = {},
  ) => {
    for (const url of both(ID360_API[op].path))
      app.route({ method: ID360_API[op].method, url, ...(preHandler ? { preHandler } : {}), ...options, handler });
  };

  serve('login', null, async (req, reply) => {
    const b = (req.body ?? {}) as { username?: unknown; password?: unknown };
    const token = sandbox.login(b.username, b.password);
    if (!token) return vendorError(reply, 401, 'INVALID_CREDENTIALS', 'Unable to log in with provided credentials.');
    return answer(loginResponse, { token });
  });

  serve('whoami', tokenAuth, async () => {
    sandbox.stats.whoami++;
    return { username: sandbox.options.username, type: 'application' };
  });

  serve('createEnrollment', tokenAuth, async (req, reply) => {
    const processId = (req.params as { processId: string }).processId;
    if (processId !== sandbox.options.processId) return vendorError(reply, 404, 'PROCESS_NOT_FOUND', 'Not found.');
    const parsed = createEnrollmentRequest.safeParse(req.body);
    if (!parsed.success) {
      const i = parsed.error.issues[0]!;
      return reply.code(400).send({ [i.path.join('.') || 'non_field_errors']: [i.message], code: 'INVALID' });
    }
    const e = sandbox.create(processId, parsed.data);
    // `webhookFirst` fault: a NEW callback (ID360 sends none by default) reaches the receiver before this answer.
    if (sandbox.faults.callsBackFirst(req)) sandbox.announce(e);
    return sandbox.view(e, true);
  });

  serve('getEnrollment', tokenAuth, async (req, reply) => {
    const e = byId(req, reply);
    if (!e) return;
    e.reads++;
    return sandbox.view(e, false);
  });

  serve('enrollmentInfo', apiKeyAuth, async (req) => {
    const e = enrollmentOf(req);
    return answer(enrollmentInfoResponse, {
      id: e.id,
      status: e.status,
      routes: [{ id: e.routeId, name: 'Docaposte customizable online process' }],
      selected_route: e.selectedRoute,
      accepted_cgu: e.consent.cgu,
      accepted_biometry: e.consent.biometry,
      expected_data: [...ID360_DATA_NAMES],
      steps_status: sandbox.stepsStatus(e),
    });
  });

  /** Flow steps are possible until the enrollment is finalized or closed. */
  const open = (e: Enrollment, reply: FastifyReply): boolean => {
    if (FINAL.includes(e.status)) void vendorError(reply, 409, 'ENROLLMENT_CLOSED', `The enrollment is ${e.status}.`);
    else if (e.finalized)
      void vendorError(reply, 409, 'ENROLLMENT_ALREADY_FINALIZED', 'The enrollment has been finalized.');
    else return true;
    return false;
  };

  serve('selectRoute', apiKeyAuth, async (req, reply) => {
    const e = enrollmentOf(req);
    const routeId = Number((req.params as { routeId: string }).routeId);
    if (!open(e, reply)) return;
    if (routeId !== e.routeId) return vendorError(reply, 404, 'ROUTE_NOT_FOUND', 'Not found.');
    e.selectedRoute = routeId;
    sandbox.touch(e);
    return reply.code(204).send();
  });

  serve('consent', apiKeyAuth, async (req, reply) => {
    const e = enrollmentOf(req);
    const q = req.query as Record<string, string | undefined>;
    if (!open(e, reply)) return;
    if (e.selectedRoute === null) return vendorError(reply, 409, 'ROUTE_NOT_SELECTED', 'Select a route first.');
    if (q.accepted_cgu !== 'true') return vendorError(reply, 400, 'CGU_NOT_ACCEPTED', 'accepted_cgu must be true.');
    e.consent = { cgu: true, biometry: q.accepted_biometry === 'true' };
    sandbox.ledger.record('consent', String(e.id));
    return reply.code(204).send();
  });

  serve('compareData', tokenAuth, async (req, reply) => {
    const e = byId(req, reply);
    if (!e || !open(e, reply)) return;
    const name = (req.params as { dataName: string }).dataName;
    if (!(ID360_DATA_NAMES as readonly string[]).includes(name))
      return vendorError(
        reply,
        400,
        'UNKNOWN_DATA',
        `Unknown data name; expected one of ${ID360_DATA_NAMES.join(', ')}.`,
      );
    const raw = req.body;
    const value = (Buffer.isBuffer(raw) ? raw.toString('utf8') : typeof raw === 'string' ? raw : '').trim();
    if (!value) return vendorError(reply, 400, 'EMPTY_VALUE', 'The body must contain the value to compare.');
    if (e.comparisons[name]?.locked) return vendorError(reply, 409, 'DATA_LOCKED', 'This data is locked.');
    e.comparisons[name] = { value, locked: (req.query as { locked?: string }).locked === 'true' };
    sandbox.ledger.record('data-compared', String(e.id));
    return reply.code(204).send();
  });

  for (const op of ['uploadDocumentPage', 'uploadSelfie'] as const) {
    serve(
      op,
      apiKeyAuth,
      async (req, reply) => {
        const e = enrollmentOf(req);
        if (!open(e, reply)) return;
        if (e.selectedRoute === null) return vendorError(reply, 409, 'ROUTE_NOT_SELECTED', 'Select a route first.');
        if (!e.consent.cgu)
          return vendorError(reply, 409, 'CONSENT_REQUIRED', 'accepted_cgu is required before uploads.');
        const q = req.query as Record<string, string | undefined>;
        const total = Number(q.total_pages);
        const page = Number(q.uploaded_page);
        if (!Number.isInteger(total) || total < 1 || total > 10)
          return vendorError(reply, 400, 'INVALID_TOTAL_PAGES', 'total_pages must be an integer from 1 to 10.');
        if (!Number.isInteger(page) || page < 0 || page >= total)
          return vendorError(reply, 400, 'INVALID_UPLOADED_PAGE', 'uploaded_page must be from 0 to total_pages - 1.');
        const bytes = Buffer.isBuffer(req.body) ? req.body : Buffer.from(typeof req.body === 'string' ? req.body : '');
        if (!bytes.length) return vendorError(reply, 400, 'EMPTY_FILE', 'The file is empty.');
        if (bytes.length > ID360_MAX_UPLOAD_BYTES)
          return vendorError(reply, 413, 'FILE_TOO_LARGE', 'The file exceeds 9.5 MB.');
        const format = sniffFormat(bytes);
        if (!format) return vendorError(reply, 400, 'UNSUPPORTED_FORMAT', 'Accepted formats: jpg, png, pdf, heic.');
        if (op === 'uploadSelfie') {
          if (total !== 1) return vendorError(reply, 400, 'INVALID_TOTAL_PAGES', 'total_pages must be 1 for a selfie.');
          if (!e.consent.biometry)
            return vendorError(reply, 409, 'BIOMETRY_CONSENT_REQUIRED', 'accepted_biometry is required for a selfie.');
          if (format === 'pdf') return vendorError(reply, 400, 'UNSUPPORTED_FORMAT', 'A selfie must be an image.');
          e.selfie = { format, size: bytes.length };
          sandbox.ledger.record('selfie-uploaded', String(e.id));
        } else {
          if (e.totalPages !== null && e.totalPages !== total)
            return vendorError(
              reply,
              400,
              'TOTAL_PAGES_MISMATCH',
              `total_pages was ${e.totalPages} for the earlier pages.`,
            );
          e.totalPages = total;
          e.pages[page] = { format, size: bytes.length };
          sandbox.ledger.record('page-uploaded', String(e.id));
        }
        return reply.code(204).send();
      },
      { bodyLimit: 20 * 1024 * 1024 },
    );
  }

  serve('finalize', apiKeyAuth, async (req, reply) => {
    const e = enrollmentOf(req);
    if (!open(e, reply)) return;
    if (e.totalPages === null || Object.keys(e.pages).length !== e.totalPages) {
      return vendorError(reply, 409, 'DOCUMENT_INCOMPLETE', 'Every page of the identity document is required.');
    }
    sandbox.finalize(e);
    return reply.code(204).send();
  });

  serve('getPdfReport', tokenAuth, async (req, reply) => {
    const e = byId(req, reply);
    if (!e) return;
    if (!sandbox.reportReady(e))
      return vendorError(
        reply,
        409,
        'REPORT_NOT_AVAILABLE',
        'The report is available once the enrollment has a verdict.',
      );
    return reply
      .type('application/pdf')
      .header('content-disposition', `attachment; filename="report-${e.id}.pdf"`)
      .send(reportPdf(e));
  });

  serve('getReport', tokenAuth, async (req, reply) => {
    const e = byId(req, reply);
    if (!e) return;
    const draft = ['true', 'True', '1'].includes(String((req.query as { allow_draft?: string }).allow_draft));
    if (sandbox.reportReady(e)) return report(e, false);
    if (draft && (e.status === 'NEW' || e.status === 'STARTED' || e.status === 'CANCELED')) return report(e, true);
    return vendorError(reply, 409, 'REPORT_NOT_AVAILABLE', 'The report is available after the final callback.');
  });

  registerId360Control(app, sandbox);
}
