/**
 * The vendor sandboxes, on one HTTP server, one prefix per vendor (`/finwave`, ...). Each vendor's
 * API is served as its documentation describes; `/_sandbox` paths under each prefix are the control
 * surface that plays the end user, injects faults and shows webhook deliveries. Which sandboxes: each
 * vendor contract's `sandbox` (config/vendors/<vendor>.ts), for the registry or a test's own.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { vendors as registeredVendors, type Vendors } from '../config/vendors';
import type { VendorContract, VendorRegistry, VendorSandboxes, VendorSandboxOptions } from '../config/vendors/contract';
import { NotificationReceiver, registerNotificationReceiver } from './receiver';

/**
 * `publicUrl`: how browsers and our service reach this server, e.g. http://127.0.0.1:8090. Per vendor,
 * options for its sandbox (default: Fourthline's webhooks and Authenteq's registered redirect URL go
 * to an API on http://localhost:8080 with the development credentials).
 */
export type SandboxServerOptions<R extends VendorRegistry = Vendors> = {
  publicUrl: string;
  logger?: boolean;
} & VendorSandboxOptions<R>;

export type SandboxServer<R extends VendorRegistry = Vendors> = {
  app: FastifyInstance;
  /** Plays the integrator's backend for our notifications (sandboxes/receiver). */
  receiver: NotificationReceiver;
  close(): Promise<void>;
} & VendorSandboxes<R>;

export function createSandboxServer<R extends VendorRegistry = Vendors>(
  options: SandboxServerOptions<NoInfer<R>>,
  registry: R = registeredVendors as unknown as R,
): SandboxServer<R> {
  const app = Fastify({ logger: options.logger ?? false });
  const running: [VendorContract, unknown][] = [];
  const sandboxes: Record<string, unknown> = {};
  for (const vendor of Object.values(registry) as VendorContract[]) {
    const own = (options as Record<string, unknown>)[vendor.name] ?? {};
    const sandbox = vendor.sandbox.create({ publicUrl: options.publicUrl, options: own });
    void app.register(async (scope) => vendor.sandbox.register(scope, sandbox), { prefix: `/${vendor.name}` });
    running.push([vendor, sandbox]);
    sandboxes[vendor.name] = sandbox;
  }
  const receiver = new NotificationReceiver();
  void app.register(async (scope) => registerNotificationReceiver(scope, receiver), { prefix: '/receiver' });

  app.get('/', async (_req, reply) =>
    reply
      .type('text/html')
      .send(
        `<!doctype html><meta charset="utf-8"><title>Vendor sandboxes</title><h1>Vendor sandboxes</h1><ul>` +
          running.map(([vendor]) => vendor.sandbox.describe(options.publicUrl)).join('') +
          `<li>Notification receiver (plays your backend): <code>${options.publicUrl}/receiver/&lt;name&gt;</code></li>` +
          `</ul><p>Controls: see sandboxes/README.md.</p>`,
      ),
  );

  return {
    ...(sandboxes as VendorSandboxes<R>),
    app,
    receiver,
    async close() {
      for (const [vendor, sandbox] of running) vendor.sandbox.stop?.(sandbox);
      await app.close();
    },
  };
}
