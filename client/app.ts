/**
 * The backend API: verifications for the integrator's backend (bearer API keys), webhook receivers
 * for the vendors (`/webhooks/<provider>/...`), browser-return receivers (`/return/<provider>/...`),
 * health probes, and the OpenAPI document with a docs page at `/docs`.
 */
import crypto from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Client } from '@temporalio/client';
import type { AppConfig } from '../config';
import type { EvidenceStore } from '../activities/evidence-store';
import { ApiError, errorBody, installErrorHandling } from './errors';
import { registerVerificationRoutes } from './verifications';
import { registerAuditTrail } from './audit';
import { FolderAuditLog, type AuditLog } from './audit-log';
import { registerMetrics } from './metrics';
import { closeCodecTls, registerCodecEndpoint } from './codec';
import { registerPersonalDataRoutes } from './personal-data';
import { resolveAuditKeyring, resolvePayloadKeyring, type PayloadKeyring } from '../codec';
import { registerFinwaveWebhook } from './webhooks/finwave';
import { registerFourthlineWebhooks } from './webhooks/fourthline';
import { registerFourthlineActions } from './actions/fourthline';
import { registerAuthenteqReturn } from './returns/authenteq';
import { registerNamirialReturn } from './returns/namirial';
import { registerId360Actions } from './actions/id360';
import { registerId360Webhook } from './webhooks/id360';
import { registerId360Link } from './returns/id360';

declare module 'fastify' {
  interface FastifyRequest {
    /** The id (never the token) of the API key that authenticated this request. */
    apiKeyId?: string;
  }
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
}

export async function buildApi({ config, client, store, logger = true, logStream, keyring = resolvePayloadKeyring(config).keyring, auditLog, auditKeyring }: ApiOptions): Promise<FastifyInstance> {
  const audit = auditLog ?? new FolderAuditLog(config.personalData.auditDir, auditKeyring ?? resolveAuditKeyring(config), keyring);
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
    // Browser-return URLs carry a signed state in the path (/return/namirial/:state), longer than the default 100.
    routerOptions: { maxParamLength: 1000 },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandling(app);
  registerMetrics(app);

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

  const tokens = config.api.keys.map((k) => ({ id: k.id, digest: sha256(k.token) }));
  await app.register(async (v1) => {
    v1.addHook('onRequest', async (req) => {
      const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
      const digest = m ? sha256(m[1]!) : null;
      const key = digest && tokens.find((t) => crypto.timingSafeEqual(t.digest, digest));
      if (!key) throw new ApiError(401, 'unauthorized', 'missing or invalid bearer API key');
      req.apiKeyId = key.id;
    });
    registerVerificationRoutes(v1, { client, config, store });
    registerAuditTrail(v1, { client, log: audit });
    registerPersonalDataRoutes(v1, { client, store, auditLog: audit });
    registerFourthlineActions(v1, { client, store });
    registerId360Actions(v1, { client, store });
  });

  await app.register(async (hooks) => {
    registerFinwaveWebhook(hooks, { client, webhookSecret: config.webhookSecret });
    registerId360Webhook(hooks, { client, webhookSecret: config.webhookSecret });
  });

  // Fourthline authenticates its webhooks itself (HTTP Basic or OAuth bearer from our token endpoint).
  await app.register(async (fourthline) => {
    registerFourthlineWebhooks(fourthline, { client, auth: config.vendors.fourthline.webhookAuth, webhookSecret: config.webhookSecret });
  });

  // Browser returns: no bearer auth (a browser calls them), the signed state is the credential.
  await app.register(async (returns) => {
    registerAuthenteqReturn(returns, { client, webhookSecret: config.webhookSecret });
    registerNamirialReturn(returns, { client, webhookSecret: config.webhookSecret });
    registerId360Link(returns, { client, webhookSecret: config.webhookSecret, id360BaseUrl: config.vendors.id360.baseUrl });
  });

  // The codec endpoint for the Temporal Web UI and CLI (its own auth and CORS): client/codec.ts.
  await app.register(async (codec) => registerCodecEndpoint(codec, { config, keyring, tokens }));
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
