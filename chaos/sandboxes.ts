/**
 * The chaos suite's vendor sandboxes: sandboxes/main.ts's server with the tests' fast vendor clocks
 * (test/helpers/stack.ts: webhooks retried from 200 ms, Fourthline processing in 200 ms), plus
 * `GET /_chaos/calls`: how many vendor API calls each vendor answered (control paths and the receiver
 * excluded), so the suite can say what share of them it made fail.
 */
import { loadConfigOrExit } from '../config';
import { createSandboxServer } from '../sandboxes/server';
import { fourthlineWebhookSettings } from '../sandboxes/fourthline';

const VENDORS = ['finwave', 'fourthline', 'authenteq', 'namirial', 'id360'] as const;

async function main() {
  const config = loadConfigOrExit();
  const server = createSandboxServer({
    publicUrl: config.sandbox.baseUrl,
    finwave: { webhooks: { maxAttempts: 8, firstRetryMs: 500 }, autoPlayDelayMs: 100 },
    id360: { webhooks: { maxAttempts: 8, firstRetryMs: 500 }, processingDelayMs: 100 },
    fourthline: {
      ...fourthlineWebhookSettings(config.publicBaseUrl, config.vendors.fourthline.webhookAuth),
      webhooks: { maxAttempts: 8, firstRetryMs: 500 },
      processingMs: 200,
      recoverAfterMs: 500,
    },
    authenteq: { redirectUrls: [config.vendors.authenteq.redirectUrl] },
  });
  const calls: Record<string, number> = Object.fromEntries(VENDORS.map((v) => [v, 0]));
  server.app.addHook('onRequest', async (req) => {
    const vendor = VENDORS.find((v) => req.url.startsWith(`/${v}/`));
    if (vendor && !req.url.includes('/_sandbox')) calls[vendor]! += 1;
  });
  server.app.get('/_chaos/calls', async () => calls);
  await server.app.listen({ host: config.sandbox.host, port: config.sandbox.port });
  const stop = async () => {
    await server.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((err) => {
  console.error(`chaos sandboxes failed: ${(err as Error).message}`);
  process.exit(1);
});
