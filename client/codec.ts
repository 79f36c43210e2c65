/**
 * The codec endpoint for the Temporal Web UI and CLI (Temporal's remote codec protocol):
 *
 *   POST /codec/decode   {"payloads":[{"metadata":{"encoding":"<base64>",…},"data":"<base64>"}]}  -> the same, decoded
 *   POST /codec/encode   the same, encoded with the current key
 *
 * Payloads are protobuf JSON (bytes as base64). The UI also sends `X-Namespace`. Callers authenticate
 * with `Authorization: Bearer <API key>` (the key ids in CODEC_KEY_IDS, by default every API key);
 * without it the answer is 401 and the UI shows the ciphertext. Browsers may call it only from the
 * Web UI's origin (CODEC_UI_ORIGIN): CORS answers that origin and no other.
 *
 * What the Web UI v2.42 does (docs/web-ui.md#decoded-payloads-in-the-web-ui-and-the-cli): it POSTs to `<endpoint>/decode`
 * from the browser; it adds `Authorization: Bearer <the UI user's access token>` only with "Pass the
 * user access token" on AND an `https://` endpoint (an http:// one gets no token, ever). A payload
 * this codec cannot decrypt (a key no longer configured) is answered unchanged, as the UI itself does.
 *
 * Development (CODEC_UI_WITHOUT_TOKEN, on by default when APP_ENV=development and the API listens on
 * loopback only): a request from the Web UI's origin without any Authorization header is decoded too,
 * so the dev server's UI shows payloads out of the box. Production always requires a token.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Payload } from '@temporalio/common';
import type { AppConfig } from '../config/app-config';
import { AesGcmPayloadCodec, type PayloadKeyring } from '../codec';
import { ApiError, errorBody } from './api-error';

const jsonPayload = z.object({
  metadata: z.record(z.string(), z.string()).optional(),
  data: z.string().optional(),
});
// Protobuf JSON omits an empty list: `{}` is an empty Payloads.
const payloadsBody = z.object({ payloads: z.array(jsonPayload).max(10_000).default([]) });
type JsonPayload = z.infer<typeof jsonPayload>;

const ALLOWED_HEADERS = 'authorization, content-type, x-namespace';

export function registerCodecEndpoint(
  app: FastifyInstance,
  deps: { config: AppConfig; keyring: PayloadKeyring; tokens: { id: string; digest: Buffer }[] },
): void {
  const { uiOrigin, keyIds, uiWithoutToken } = deps.config.personalData.codec;
  const allowed = deps.tokens.filter((t) => keyIds === null || keyIds.includes(t.id));
  const codec = new AesGcmPayloadCodec(deps.keyring);
  const r = app.withTypeProvider<ZodTypeProvider>();

  // CORS: only the Web UI's origin; the UI sends credentials when "include credentials" is on.
  app.addHook('onRequest', async (req, reply) => {
    if (req.headers.origin !== uiOrigin) return;
    reply.header('access-control-allow-origin', uiOrigin);
    reply.header('access-control-allow-credentials', 'true');
    reply.header('vary', 'origin');
  });
  app.addHook('onRequest', async (req) => {
    if (req.method === 'OPTIONS') return;
    if (uiWithoutToken && req.headers.origin === uiOrigin && req.headers.authorization === undefined) {
      req.apiKeyId = 'web-ui (development)';
      return;
    }
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    const digest = m ? crypto.createHash('sha256').update(m[1]!).digest() : null;
    const key = digest && allowed.find((t) => crypto.timingSafeEqual(t.digest, digest));
    if (!key) throw new ApiError(401, 'unauthorized', 'the codec needs Authorization: Bearer <API key>');
    req.apiKeyId = key.id;
  });

  const preflight = async (req: FastifyRequest, reply: FastifyReply) => {
    if (req.headers.origin !== uiOrigin) return reply.code(403).send(errorBody('forbidden', 'origin not allowed'));
    return reply
      .code(204)
      .header('access-control-allow-methods', 'POST')
      .header('access-control-allow-headers', ALLOWED_HEADERS)
      .header('access-control-max-age', '600')
      .send();
  };
  const hidden = { schema: { hide: true } };
  app.options('/codec/decode', hidden, preflight);
  app.options('/codec/encode', hidden, preflight);

  const route = (summary: string) => ({
    bodyLimit: 64 * 1024 * 1024,
    schema: { summary, security: [{ bearer: [] }], tags: ['codec'], body: payloadsBody },
  });
  r.post(
    '/codec/decode',
    route('Temporal remote codec: decrypt payloads (for the Web UI and the CLI)'),
    async (req) => ({
      payloads: await Promise.all(req.body.payloads.map(async (p) => toJson(await decodeOrKeep(codec, fromJson(p))))),
    }),
  );
  r.post('/codec/encode', route('Temporal remote codec: encrypt payloads with the current key'), async (req) => ({
    payloads: (await codec.encode(req.body.payloads.map(fromJson))).map(toJson),
  }));
}

async function decodeOrKeep(codec: AesGcmPayloadCodec, p: Payload): Promise<Payload> {
  try {
    return codec.decrypt(p);
  } catch {
    return p;
  }
}

function fromJson(p: JsonPayload): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(p.data ?? '', 'base64'),
  };
}

function toJson(p: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    ),
    data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
  };
}

/**
 * The codec over HTTPS as well (CODEC_TLS_CERT / CODEC_TLS_KEY, port CODEC_TLS_PORT): the Web UI passes
 * a token only to an https:// endpoint. Serves `/codec/*` of the same app and nothing else.
 */
export async function listenCodecTls(app: FastifyInstance, config: AppConfig): Promise<https.Server | null> {
  const tls = config.personalData.codec.tls;
  if (!tls) return null;
  const server = https.createServer(
    { cert: fs.readFileSync(tls.certFile), key: fs.readFileSync(tls.keyFile) },
    (req, res) => {
      if (!req.url?.startsWith('/codec/')) {
        res
          .writeHead(404, { 'content-type': 'application/json' })
          .end(JSON.stringify(errorBody('not_found', 'only /codec/* is served here')));
        return;
      }
      app.routing(req, res);
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(tls.port, config.api.host, () => resolve());
  });
  tlsServers.set(app, server);
  return server;
}

const tlsServers = new WeakMap<FastifyInstance, https.Server>();

/** Closes the HTTPS listener of `listenCodecTls` (buildApi registers it on the app's close). */
export async function closeCodecTls(app: FastifyInstance): Promise<void> {
  const server = tlsServers.get(app);
  if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
}
