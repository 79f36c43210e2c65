/**
 * Our vendor sandboxes for the bench: sandboxes/main.ts's server and settings, except two vendor
 * clocks a long run must not trip over: Finwave's user session (30 minutes by default, after which
 * every parked p3 flow would be woken by a TIMEOUT webhook) lasts 12 hours, and Fourthline's case
 * processing takes the tests' 200 ms instead of 2 s.
 */
import { loadConfigOrExit } from '../config';
import { createSandboxServer } from '../sandboxes/server';
import { fourthlineWebhookSettings } from '../sandboxes/fourthline';

async function main() {
  const config = loadConfigOrExit();
  const server = createSandboxServer({
    publicUrl: config.sandbox.baseUrl,
    finwave: { sessionTimeoutMs: 12 * 3_600_000 },
    authenteq: { redirectUrls: [config.vendors.authenteq.redirectUrl] },
    fourthline: {
      ...fourthlineWebhookSettings(config.publicBaseUrl, config.vendors.fourthline.webhookAuth),
      processingMs: 200,
    },
  });
  await server.app.listen({ host: config.sandbox.host, port: config.sandbox.port });
  const stop = async () => {
    await server.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((err) => {
  console.error(`bench sandboxes failed: ${(err as Error).message}`);
  process.exit(1);
});
