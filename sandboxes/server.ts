/**
 * The vendor sandboxes, on one HTTP server, one prefix per vendor (`/finwave`, ...). Each vendor's
 * API is served as its documentation describes; `/_sandbox` paths under each prefix are the control
 * surface that plays the end user, injects faults and shows webhook deliveries.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { SANDBOX_CREDENTIALS } from './credentials';
import { FinwaveSandbox, registerFinwaveSandbox, type FinwaveSandboxOptions } from './finwave';
import { FourthlineSandbox, registerFourthlineSandbox, type FourthlineSandboxOptions } from './fourthline';
import { AuthenteqSandbox, registerAuthenteqSandbox, type AuthenteqSandboxOptions } from './authenteq';
import { NamirialSandbox, registerNamirialSandbox, type NamirialSandboxOptions } from './namirial';
import { Id360Sandbox, registerId360Sandbox, type Id360SandboxOptions } from './id360';
import { NotificationReceiver, registerNotificationReceiver } from './receiver';

export interface SandboxServerOptions {
  /** How browsers and our service reach this server, e.g. http://127.0.0.1:8090 */
  publicUrl: string;
  finwave?: Partial<FinwaveSandboxOptions>;
  /** Webhook URLs default to an API on http://localhost:8080 with the development Basic credentials. */
  fourthline?: Partial<FourthlineSandboxOptions>;
  /** Registered redirect URLs default to our receiver on http://localhost:8080. */
  authenteq?: Partial<AuthenteqSandboxOptions>;
  namirial?: Partial<NamirialSandboxOptions>;
  id360?: Partial<Id360SandboxOptions>;
  logger?: boolean;
}

export interface SandboxServer {
  app: FastifyInstance;
  finwave: FinwaveSandbox;
  fourthline: FourthlineSandbox;
  authenteq: AuthenteqSandbox;
  namirial: NamirialSandbox;
  id360: Id360Sandbox;
  /** Plays the integrator's backend for our notifications (sandboxes/receiver). */
  receiver: NotificationReceiver;
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
  const fourthlineCreds = SANDBOX_CREDENTIALS.fourthline;
  const fourthline = new FourthlineSandbox({
    clientId: fourthlineCreds.clientId,
    clientSecret: fourthlineCreds.clientSecret,
    caseWebhookUrl: 'http://localhost:8080/webhooks/fourthline/cases',
    signatureWebhookUrl: 'http://localhost:8080/webhooks/fourthline/signatures',
    webhookAuth: { mode: 'basic', username: fourthlineCreds.webhookUser, password: fourthlineCreds.webhookPassword },
    ...options.fourthline,
  });
  void app.register(async (scope) => registerFourthlineSandbox(scope, fourthline), { prefix: '/fourthline' });
  const authenteq = new AuthenteqSandbox({
    ...SANDBOX_CREDENTIALS.authenteq,
    publicUrl: options.publicUrl,
    redirectUrls: ['http://localhost:8080/return/authenteq'],
    ...options.authenteq,
  });
  void app.register(async (scope) => registerAuthenteqSandbox(scope, authenteq), { prefix: '/authenteq' });
  const namirial = new NamirialSandbox({
    apiToken: SANDBOX_CREDENTIALS.namirial.apiToken,
    publicUrl: options.publicUrl,
    ...options.namirial,
  });
  void app.register(async (scope) => registerNamirialSandbox(scope, namirial), { prefix: '/namirial' });
  const id360 = new Id360Sandbox({ ...SANDBOX_CREDENTIALS.id360, publicUrl: options.publicUrl, ...options.id360 });
  void app.register(async (scope) => registerId360Sandbox(scope, id360), { prefix: '/id360' });
  const receiver = new NotificationReceiver();
  void app.register(async (scope) => registerNotificationReceiver(scope, receiver), { prefix: '/receiver' });

  app.get('/', async (_req, reply) =>
    reply
      .type('text/html')
      .send(
        `<!doctype html><meta charset="utf-8"><title>Vendor sandboxes</title><h1>Vendor sandboxes</h1><ul>` +
          `<li>Finwave: API base <code>${options.publicUrl}/finwave/management</code>, token <code>${SANDBOX_CREDENTIALS.finwave.clientToken}</code></li>` +
          `<li>Fourthline: API base <code>${options.publicUrl}/fourthline</code>, client <code>${fourthlineCreds.clientId}</code> / <code>${fourthlineCreds.clientSecret}</code></li>` +
          `<li>Authenteq: API base <code>${options.publicUrl}/authenteq</code>, Basic <code>${SANDBOX_CREDENTIALS.authenteq.clientId}</code> / <code>${SANDBOX_CREDENTIALS.authenteq.clientSecret}</code></li>` +
          `<li>Namirial VerifID: API base <code>${options.publicUrl}/namirial/api/v1</code>, X-VerifiD-ApiToken <code>${SANDBOX_CREDENTIALS.namirial.apiToken}</code></li>` +
          `<li>ID360: host root <code>${options.publicUrl}/id360</code> (API under <code>/api/1.0.0</code>), login <code>${SANDBOX_CREDENTIALS.id360.username}</code> / <code>${SANDBOX_CREDENTIALS.id360.password}</code>, process <code>${SANDBOX_CREDENTIALS.id360.processId}</code></li>` +
          `<li>Notification receiver (plays your backend): <code>${options.publicUrl}/receiver/&lt;name&gt;</code></li>` +
          `</ul><p>Controls: see sandboxes/README.md.</p>`,
      ),
  );

  return {
    app,
    finwave,
    fourthline,
    authenteq,
    namirial,
    id360,
    receiver,
    async close() {
      finwave.stop();
      fourthline.stop();
      namirial.stop();
      id360.stop();
      await app.close();
    },
  };
}
