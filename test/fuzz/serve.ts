/**
 * The whole service on free ports for the fuzzer (test/fuzz/schemathesis.sh): an in-memory Temporal dev
 * server, the sandboxes, the worker and the API (test/helpers/stack.ts), with the test API key. Prints
 * `API <url>` once ready; SIGTERM stops everything.
 */
import { freePort, startDevServer } from '../../temporal-dev/dev-server';
import { ensureTemporalCli } from '../../temporal-dev/ensure';
import { TEST_ADDRESS_ENV, connectToTestTemporal } from '../helpers/temporal';
import { startStack } from '../helpers/stack';

async function main() {
  const server = await startDevServer({
    cliPath: await ensureTemporalCli(),
    port: await freePort(),
    headless: true,
    ip: '127.0.0.1',
  });
  process.env[TEST_ADDRESS_ENV] = server.address;
  const temporal = await connectToTestTemporal();
  const stack = await startStack(temporal);
  console.log(`API ${stack.apiUrl}`);
  const stop = async () => {
    await stack.stop();
    await temporal.close();
    await server.stop();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

main().catch((err) => {
  console.error(`fuzz server failed to start: ${(err as Error).message}`);
  process.exit(1);
});
