/**
 * Every error the API answers is `{ "error": { "code", "message" } }` with the right status. Bad
 * input is a 4xx that says what is wrong, naming the field in plain words; nothing unexpected leaks a
 * stack trace. Fastify's own refusals (unparsable JSON, an unknown content type, a body or a URL
 * parameter too long, a malformed URL) get the same shape.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ApiError, errorBody } from './api-error';
import { isStalledWorkflow, isTimeout, isUnansweredQuery, stalled, unavailable } from './deadlines';

/** Fastify's 4xx codes, as our error codes. */
const STATUS_CODES: Record<number, string> = {
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  408: 'request_timeout',
  409: 'conflict',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  431: 'headers_too_large',
};

interface ValidationIssue {
  keyword: string;
  instancePath: string;
  message?: string;
  params?: Record<string, unknown>;
}

const LOCATIONS: Record<string, string> = { body: 'body', querystring: 'query', params: 'path', headers: 'header' };

/** One issue, in plain words that name the field: `body.options.deadline: must be a duration like …`. */
export function describeIssue(context: string | undefined, issue: ValidationIssue): string {
  const where = LOCATIONS[context ?? ''] ?? 'request';
  const path = issue.instancePath.split('/').filter(Boolean);
  const p = issue.params ?? {};
  let problem = issue.message ?? 'is invalid';
  const list = (values: unknown) => (Array.isArray(values) ? values.map((v) => JSON.stringify(v)).join(', ') : '');
  switch (issue.keyword) {
    case 'invalid_type':
      problem = /received undefined$/.test(problem)
        ? 'is required'
        : `must be ${article(typeof p.expected === 'string' ? p.expected : 'value')}`;
      if (path.length === 0 && where === 'body') problem = p.expected === 'object' ? 'must be a JSON object' : problem;
      break;
    case 'invalid_union':
      if (typeof p.discriminator === 'string') {
        if (path.at(-1) !== p.discriminator) path.push(p.discriminator);
        problem = `must be one of ${list(p.options)}`;
      } else problem = 'does not match any of the accepted shapes';
      break;
    case 'invalid_value':
      problem =
        Array.isArray(p.values) && p.values.length === 1
          ? `must be ${list(p.values)}`
          : `must be one of ${list(p.values)}`;
      break;
    case 'unrecognized_keys':
      problem = `has unknown field${(p.keys as unknown[] | undefined)?.length === 1 ? '' : 's'} ${list(p.keys)}`;
      break;
    case 'too_small':
    case 'too_big': {
      const small = issue.keyword === 'too_small';
      const bound = small ? p.minimum : p.maximum;
      const unit = p.origin === 'string' ? ' characters' : p.origin === 'array' ? ' items' : '';
      problem = `must be ${small ? 'at least' : 'at most'} ${String(bound)}${unit}`;
      break;
    }
    case 'invalid_format':
      if (!/^must|^is /.test(problem))
        problem = `must be ${article(typeof p.format === 'string' ? p.format : 'valid value')}`;
      break;
    default:
      if (!/^must|^is /.test(problem)) problem = `is invalid (${problem.replace(/^Invalid input: ?/, '')})`;
  }
  return `${[where, ...path].join('.')}: ${problem}`;
}

function article(noun: string): string {
  return `${/^[aeiou]/.test(noun) ? 'an' : 'a'} ${noun}`;
}

function sendError(
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
) {
  for (const [k, v] of Object.entries(headers)) reply.header(k, v);
  return reply.code(status).type('application/json; charset=utf-8').send(errorBody(code, message));
}

function sendApiError(reply: FastifyReply, err: ApiError) {
  return sendError(reply, err.statusCode, err.code, err.message, err.headers);
}

function handle(err: FastifyError | ApiError | Error, req: FastifyRequest, reply: FastifyReply) {
  if (err instanceof ApiError) return sendApiError(reply, err);
  if (hasZodFastifySchemaValidationErrors(err)) {
    return sendError(
      reply,
      400,
      'invalid_request',
      describeIssue(err.validationContext, err.validation[0] as ValidationIssue),
    );
  }
  const status = (err as FastifyError).statusCode;
  if (status && status >= 400 && status < 500) {
    const code = STATUS_CODES[status] ?? 'invalid_request';
    const headers: Record<string, string> =
      status === 429 ? { 'retry-after': String(reply.getHeader('retry-after') ?? 1) } : {};
    return sendError(reply, status, code, plainFrameworkMessage(err as FastifyError), headers);
  }
  if (isTimeout(err)) return sendApiError(reply, unavailable());
  if (status === 503) return sendError(reply, 503, 'temporarily_unavailable', err.message, { 'retry-after': '5' });
  if (isStalledWorkflow(err)) {
    req.log.error(
      { err: { type: err.name, message: err.message } },
      'verification stalled: its workflow task keeps failing',
    );
    return sendApiError(reply, stalled());
  }
  // The cause's gRPC code and details too: a client ServiceError's own message is only "Failed to query Workflow",
  // which tells one unanswered query from another not at all.
  const cause = (err as { cause?: { code?: unknown; details?: unknown; message?: unknown } }).cause;
  if (isUnansweredQuery(err)) {
    req.log.warn(
      {
        err: {
          type: err.name,
          message: err.message,
          cause: cause ? { code: cause.code, details: cause.details } : undefined,
        },
      },
      'query unanswered: 503',
    );
    return sendApiError(reply, unavailable());
  }
  req.log.error(
    {
      err: {
        type: err.name,
        message: err.message,
        cause: cause ? { code: cause.code, details: cause.details, message: cause.message } : undefined,
      },
    },
    'unhandled error',
  );
  return sendError(reply, 500, 'internal', 'internal error');
}

/** Fastify's messages, without echoing what the caller sent (a URL can be thousands of characters). */
function plainFrameworkMessage(err: FastifyError): string {
  switch (err.code) {
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return 'a path parameter is too long';
    case 'FST_ERR_BAD_URL':
      return 'the URL is not valid (a malformed % escape?)';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'unsupported content type: send application/json';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'body: is empty while content-type is application/json';
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'the body is too large';
    default:
      return err.message.length > 200 ? `${err.message.slice(0, 200)}…` : err.message;
  }
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler(handle);
  app.setNotFoundHandler((_req, reply) => sendError(reply, 404, 'not_found', 'no such route'));
}

/** For Fastify's `frameworkErrors` option: a malformed URL or an over-long path parameter, before any route runs. */
export function frameworkErrors(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  void handle(err, req, reply);
}
