/** Runs the vendor sandboxes on SANDBOX_HOST:SANDBOX_PORT (default 127.0.0.1:8090). */
import { loadConfigOrExit } from '../config';
import { createSandboxServer } from './server';

async function main() {
  const config = loadConfigOrExit();
  const server = createSandboxServer({ publicUrl: config.sandbox.baseUrl });
  await server.app.listen({ host: config.sandbox.host, port: config.sandbox.port });
  console.log(`Vendor sandboxes: ${config.sandbox.baseUrl} (Finwave at ${config.sandbox.baseUrl}/finwave/management)`);
  const stop = async () => {
    await server.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

void main();
