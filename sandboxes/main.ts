/** Runs the vendor sandboxes on SANDBOX_HOST:SANDBOX_PORT (default 127.0.0.1:8090). */
import { loadConfigOrExit } from '../config';
import { createSandboxServer } from './server';
import path from 'node:path';
import { fourthlineWebhookSettings } from './fourthline';
import { persistSandboxes } from './persistence';

async function main() {
  const config = loadConfigOrExit();
  const server = createSandboxServer({
    publicUrl: config.sandbox.baseUrl,
    // The sandbox's "Customer Dashboard" registers our configured redirect URL.
    authenteq: { redirectUrls: [config.vendors.authenteq.redirectUrl] },
    // Fourthline's account settings: our webhook URLs and the credentials we gave it (Basic or OAuth).
    fourthline: fourthlineWebhookSettings(config.publicBaseUrl, config.vendors.fourthline.webhookAuth),
  });
  const persisted = persistSandboxes(
    server,
    path.resolve(process.env.SANDBOX_STATE_FILE ?? 'data/sandboxes/state.json'),
  );
  await server.app.listen({ host: config.sandbox.host, port: config.sandbox.port });
  console.log(`Vendor sandboxes: ${config.sandbox.baseUrl} (Finwave at ${config.sandbox.baseUrl}/finwave/management)`);
  const stop = async () => {
    await server.close();
    persisted.stop();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

void main();
