/** Runs the vendor sandboxes on SANDBOX_HOST:SANDBOX_PORT (default 127.0.0.1:8090). */
import { loadConfigOrExit } from '../config';
import { vendors, type VendorEndpoint, type VendorRegistry } from '../config/vendors';
import { createSandboxServer } from './server';
import path from 'node:path';
import { persistSandboxes } from './persistence';

async function main() {
  const config = loadConfigOrExit();
  // Each sandbox's account settings from our config (its contract's `sandbox.settingsFrom`): our
  // receivers' URLs, the redirect URL and webhook credentials we registered with the vendor.
  const settings = Object.fromEntries(
    Object.values(vendors as VendorRegistry).map((v) => [
      v.name,
      v.sandbox.settingsFrom?.({
        config: (config.vendors as Record<string, VendorEndpoint>)[v.name]!,
        publicBaseUrl: config.publicBaseUrl,
      }) ?? {},
    ]),
  );
  const server = createSandboxServer({ publicUrl: config.sandbox.baseUrl, ...settings });
  const persisted = persistSandboxes(
    server,
    path.resolve(process.env.SANDBOX_STATE_FILE ?? 'data/sandboxes/state.json'),
  );
  await server.app.listen({ host: config.sandbox.host, port: config.sandbox.port });
  console.log(`Vendor sandboxes: ${config.sandbox.baseUrl}`);
  const stop = async () => {
    await server.close();
    persisted.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

void main();
