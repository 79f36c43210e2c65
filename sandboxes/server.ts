/**
 * The vendor sandboxes, on one HTTP server, one prefix per vendor (`/finwave`, ...). Each vendor's
 * API is served as its documentation describes; `/_sandbox` paths under each prefix are the control
 * surface that plays the end user, injects faults and shows webhook deliveries.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { SANDBOX_CREDENTIALS } from './credentials';
import { FinwaveSandbox, registerFinwaveSandbox, type FinwaveSandboxOptions } from './finwave';

export interface SandboxServerOptions {
  /** How browsers and our service reach this server, e.g. http://127.0.0.1:8090 */
  publicUrl: string;
  finwave?: Partial<FinwaveSandboxOptions>;
  logger?: boolean;
}

export interface SandboxServer {
  app: FastifyInstance;
  finwave: FinwaveSandbox;
  close(): Promise<void>;
}

export function createSandboxServer(options: SandboxServerOptions): SandboxServer {
  const app = Fastify({ logger: options.logger ?? false });
  const finwave = new FinwaveSandbox({
    clientToken: SANDBOX_CREDENTIALS.finwave.clientToken,
    publicUrl: options.publicUrl,
    ...options.finwave,
  });
  void app.register(async (scope) => registerFinwaveSandbox(scope, finwave), { prefix: '/finwave' });

  app.get('/', async (_req, reply) =>
    reply.type('text/html').send(
      `<!doctype html><meta charset="utf-8"><title>Vendor sandboxes</title><h1>Vendor sandboxes</h1><ul>` +
        `<li>Finwave: API base <code>${options.publicUrl}/finwave/management</code>, token <code>${SANDBOX_CREDENTIALS.finwave.clientToken}</code></li>` +
        `</ul><p>Controls: see sandboxes/README.md.</p>`,
    ),
  );

  return {
    app,
    finwave,
    async close() {
      finwave.stop();
      await app.close();
    },
  };
}
