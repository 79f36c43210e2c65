/** Runs the API on API_HOST:API_PORT. */
import { Client, Connection } from '@temporalio/client';
import { loadConfigOrExit } from '../config';
import { buildApi } from './app';
import { FolderEvidenceStore } from '../activities/evidence-store';

async function main() {
  const config = loadConfigOrExit();
  const connection = await Connection.connect(config.temporal.connectionOptions);
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const app = await buildApi({ config, client, store: new FolderEvidenceStore(config.evidenceDir) });
  await app.listen({ host: config.api.host, port: config.api.port });
  console.log(`API: http://${config.api.host}:${config.api.port} (docs at /docs)`);
  for (const note of config.notes) console.log(`  note: ${note}`);
  const stop = async () => {
    await app.close();
    await connection.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err) => {
  console.error(`API failed to start: ${(err as Error).message}`);
  process.exit(1);
});
