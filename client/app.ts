/**
 * The backend API: verifications for the integrator's backend (bearer API keys), webhook receivers
 * for the vendors (`/webhooks/<provider>/...`), browser-return receivers (`/return/<provider>/...`),
 * health probes, and the OpenAPI document with a docs page at `/docs`.
 */
import crypto from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import helmet from '@fastify/helmet';
import rateLimit, { type RateLimitPluginOptions } from '@fastify/rate-limit';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Client } from '@temporalio/client';
import type { ApiScope, AppConfig } from '../config/app-config';
import { parseVerificationId, tenantWorkflowId } from '../workflows/shared';
import type { EvidenceStore } from '../activities/evidence-store';
import { ApiError, errorBody } from './api-error';
import { frameworkErrors, installErrorHandling } from './errors';
import { CREATE_DEADLINE_MS, HANDLER_TIMEOUT_MS, WORKER_CALL_MS } from './deadlines';
import { registerVerificationRoutes } from './verifications';
import { registerAuditTrail } from './audit';
import { FolderAuditLog, type AuditLog } from './audit-log';
import { registerMetrics } from './metrics';
import { closeCodecTls, registerCodecEndpoint } from './codec';
import { registerPersonalDataRoutes } from './personal-data';
import { resolveAuditKeyring, resolvePayloadKeyring, type PayloadKeyring } from '../codec';
import { vendors as registeredVendors } from '../config/vendors';
import type { VendorContract, VendorRegistry, VendorRouteDeps } from '../config/vendors/contract';
import { registerWebhookEndpointRoutes } from './webhook-endpoints';
import { registerWebhookDeliveryRoutes } from './webhook-deliveries';

declare module 'fastify' {
  interface FastifyRequest {
    /** The id (never the token) of the API key that authenticated this request. */
    apiKeyId?: string;
    /** Who called (the agreed seam for tenancy): the key id, its tenant and its scopes. Set inside /v1. */
    principal?: Principal;
  }
}

export interface Principal {
  keyId: string;
  tenant: string;
  scopes: ApiScope[];
}

export interface ApiOptions {
  config: AppConfig;
  client: Client;
  /** Uploads (documents, selfies) go here before the workflow hears of them; it carries references only. */
  store: EvidenceStore;
  logger?: boolean;
  /** Where the logs go (default stdout); tests capture them. */
  logStream?: NodeJS.WritableStream;
  /** The payload keys of the codec endpoint and the audit log; default: the configured (or development) ones. */
  keyring?: PayloadKeyring;
  /** Erasures and late audit entries; default: the folder log in AUDIT_DIR. */
  auditLog?: AuditLog;
  /** The audit log's own keys; default: AUDIT_KEYS (or the development audit key). */
  auditKeyring?: PayloadKeyring;
  /** The vendors served (default: the registry, config/vendors/index.ts); a test adds a toy vendor. */
  vendors?: VendorRegistry;
  /** Per vendor, what a test passes to its routes (e.g. a webhook lookup on a server without visibility). */
  vendorOptions?: Record<string, unknown>;
  /** Requests per minute: per API key on /v1, per source address on the receivers (default: config.api.rateLimits). */
  rateLimits?: { perKey: number; perAddress: number };
}

/** Requests per minute (@fastify/rate-limit, in memory per API process): 429 with Retry-After beyond. */
function limiter(max: number, key: (req: FastifyRequest) => string): RateLimitPluginOptions {
  return {
    max,
    timeWindow: 60_000,
    // After authentication, so that /v1 counts per API key.
    hook: 'preHandler',
    keyGenerator: key,
    errorResponseBuilder: (_req, ctx) =>
      new ApiError(
        429,
        'rate_limited',
        `too many requests: at most ${ctx.max} a minute, retry in ${Math.ceil(ctx.ttl / 1000)} s`,
        {
          'retry-after': String(Math.ceil(ctx.ttl / 1000)),
        },
      ),
  };
}

export async function buildApi({
  config,
  client,
  store,
  logger = true,
  logStream,
  keyring = resolvePayloadKeyring(config).keyring,
  auditLog,
  auditKeyring,
  vendors = registeredVendors,
  vendorOptions = {},
  rateLimits = config.api.rateLimits,
}: ApiOptions): Promise<FastifyInstance> {
  const vendorList: VendorContract[] = Object.values(vendors);
  const vendorConfigs = config.vendors as Record<string, unknown>;
  const depsOf = (v: VendorContract): VendorRouteDeps<never> => ({
    client,
    config: vendorConfigs[v.name] as never,
    store,
    webhookSecret: config.webhookSecret,
    options: vendorOptions[v.name],
  });
  const audit =
    auditLog ?? new FolderAuditLog(config.personalData.auditDir, auditKeyring ?? resolveAuditKeyring(config), keyring);
  const app = Fastify({
    logger: logger
      ? {
          level: config.logLevel,
          // Webhook URLs end in a secret token: log paths without it. Bodies are never logged.
          serializers: { req: (req: FastifyRequest) => ({ method: req.method, url: redactUrl(req.url) }) },
          ...(logStream ? { stream: logStream } : {}),
        }
      : false,
    bodyLimit: 1024 * 1024,
    // Time bounds (docs/api.md#time-bounds): a socket idle this long is closed, a request must arrive whole
    // within requestTimeout, and a handler that has not answered by handlerTimeout answers 503 (a backstop:
    // every Temporal call has its own, shorter deadline: client/deadlines.ts).
    connectionTimeout: 60_000,
    requestTimeout: 60_000,
    handlerTimeout: HANDLER_TIMEOUT_MS,
    // Browser-return URLs carry a signed state in the path (/return/<provider>/:state), longer than the default 100.
    routerOptions: { maxParamLength: 1000 },
    // A malformed URL or an over-long path parameter: our error shape too (client/errors.ts).
    frameworkErrors,
  });
  // An empty JSON body is no body (`POST …/cancel` with a content-type and nothing else); a route that needs one says so.
  const jsonParser = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, text, done) => {
    if (String(text).trim() === '') return done(null, undefined);
    // Fastify's default JSON parser answers through `done`; its type also allows the promise form, which it is not.
    void jsonParser(req, String(text), done);
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandling(app);
  registerMetrics(app, { client, providers: Object.keys(vendors) });

  await app.register(swagger, {
    openapi: {
      info: { title: 'Identity verification orchestration API', version: '1.0.0' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  // Probes are polled every few seconds: no log line per call (a failing /readyz still answers 503).
  app.get('/healthz', { schema: { hide: true }, logLevel: 'silent' }, async () => ({ ok: true }));
  app.get('/readyz', { schema: { hide: true }, logLevel: 'silent' }, async (_req, reply) => {
    try {
      await client.connection.withDeadline(Date.now() + 2000, () => client.workflowService.getSystemInfo({}));
      return { ready: true };
    } catch {
      return reply.code(503).send(errorBody('not_ready', 'Temporal does not answer'));
    }
  });

  // Every Temporal call of the API, the receivers' included, runs under a deadline (client/deadlines.ts):
  // no worker or a slow server ends in 503 temporarily_unavailable with Retry-After (create: 202, see
  // verifications.ts), never a hang. Hooked on the root, so it applies to every route registered below.
  app.addHook('onRoute', (route) => {
    if (!/^\/(v1|webhooks|return|go)\//.test(route.url)) return;
    const handler = route.handler;
    const ms = route.method === 'POST' && route.url === '/v1/verifications' ? CREATE_DEADLINE_MS : WORKER_CALL_MS;
    route.handler = function (this: unknown, req, reply) {
      return client.withDeadline(Date.now() + ms, async () => handler.call(this as never, req, reply));
    };
  });

  const tokens = config.api.keys.map((k) => ({
    id: k.id,
    digest: sha256(k.token),
    tenant: k.tenant,
    scopes: k.scopes,
  }));
  await app.register(async (v1) => {
    v1.addHook('onRequest', async (req) => {
      const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
      const digest = m ? sha256(m[1]!) : null;
      const key = digest && tokens.find((t) => crypto.timingSafeEqual(t.digest, digest));
      if (!key) throw new ApiError(401, 'unauthorized', 'missing or invalid bearer API key');
      req.apiKeyId = key.id;
      req.principal = { keyId: key.id, tenant: key.tenant, scopes: key.scopes };
      const reads = req.method === 'GET' || req.method === 'HEAD';
      const may = key.scopes.includes('integrator') || (reads && key.scopes.includes('operator-read'));
      if (!may)
        throw new ApiError(
          403,
          'forbidden',
          reads ? 'this API key may not read verifications' : 'this API key may only read (scope operator-read)',
        );
      // The verification routes address a verification by its API id (`provider:reference`): from here on
      // it is this tenant's workflow id, so another tenant's verification is simply not found (404).
      // (Other :id routes, such as webhook endpoints, look their ids up within the tenant themselves.)
      const params = req.params as Record<string, unknown> | undefined;
      if (params && typeof params.id === 'string' && req.routeOptions.url?.startsWith('/v1/verifications/:id')) {
        const parsed = parseVerificationId(params.id);
        params.id =
          parsed && parsed.tenant === 'default' && !params.id.includes('~')
            ? tenantWorkflowId(key.tenant, params.id)
            : 'unknown';
      }
    });
    await v1.register(
      rateLimit,
      limiter(rateLimits.perKey, (req) => `key:${req.principal?.keyId ?? req.ip}`),
    );
    registerVerificationRoutes(v1, { client, config, store, vendors });
    registerAuditTrail(v1, { client, log: audit });
    registerPersonalDataRoutes(v1, { client, store, auditLog: audit, vendors });
    // Each vendor's steps driven by the integrator's backend (its contract's `routes.actions`).
    for (const v of vendorList) v.routes?.actions?.(v1, depsOf(v));
    // Notifications to the integrator's backend (docs/notifications.md).
    registerWebhookEndpointRoutes(v1, { client, config });
    registerWebhookDeliveryRoutes(v1, { client, config });
  });

  const perAddress = limiter(rateLimits.perAddress, (req) => `ip:${req.ip}`);
  await app.register(async (hooks) => {
    await hooks.register(rateLimit, perAddress);
    // Webhooks whose URL ends in our per-verification token (config/webhook-token.ts).
    for (const v of vendorList)
      if (v.routes?.webhooks?.auth === 'url-token') v.routes.webhooks.register(hooks, depsOf(v));
  });

  // Vendors that authenticate their webhooks themselves (their own credentials): a scope each.
  for (const v of vendorList) {
    const webhooks = v.routes?.webhooks;
    if (webhooks?.auth !== 'vendor') continue;
    await app.register(async (scope) => {
      await scope.register(rateLimit, perAddress);
      webhooks.register(scope, depsOf(v));
    });
  }

  // Browser returns: no bearer auth (a browser calls them), the signed state is the credential.
  await app.register(async (returns) => {
    await returns.register(rateLimit, perAddress);
    // Security headers (CSP, frame-ancestors, nosniff, HSTS, …) on the HTML pages a browser gets here.
    await returns.register(helmet, {
      contentSecurityPolicy: {
        directives: {
          'default-src': ["'none'"],
          'style-src': ["'unsafe-inline'"],
          'form-action': ["'none'"],
          'frame-ancestors': ["'none'"],
        },
      },
    });
    for (const v of vendorList) v.routes?.returns?.(returns, depsOf(v));
  });

  // The codec endpoint for the Temporal Web UI and CLI (its own auth and CORS): client/codec.ts.
  await app.register(async (codec) =>
    registerCodecEndpoint(codec, { config, keyring, tokens: tokens.filter((t) => t.scopes.includes('codec')) }),
  );
  app.addHook('onClose', () => closeCodecTls(app));

  return app;
}

function sha256(s: string): Buffer {
  return crypto.createHash('sha256').update(s).digest();
}

export function redactUrl(url: string): string {
  return (
    url
      .replace(/^(\/webhooks\/[^/]+\/[^/]+\/)[^/?]+/, '$1…')
      // Browser returns carry a signed state and one-time codes (path or query): keep only the provider.
      .replace(/^(\/return\/[^/?]+)[/?].*$/, '$1/…')
      // Browser-mode links (/go/<provider>/<id>/<sealed credential>): keep only the provider.
      .replace(/^(\/go\/[^/?]+)[/?].*$/, '$1/…')
  );
}
