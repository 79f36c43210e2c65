/** Runs the API on API_HOST:API_PORT (and the codec over HTTPS on CODEC_TLS_PORT when configured). */
import { Client, Connection } from '@temporalio/client';
import { loadConfigOrExit } from '../config';
import { buildApi } from './app';
import { listenCodecTls } from './codec';
import { ensureRetentionSchedule } from './retention-schedule';
import { FolderEvidenceStore } from '../activities/evidence-store';
import { dataConverter, describeKeyring, resolvePayloadKeyring } from '../codec';

async function main() {
  const config = loadConfigOrExit();
  const keys = resolvePayloadKeyring(config);
  const connection = await Connection.connect(config.temporal.connectionOptions);
  const client = new Client({ connection, namespace: config.temporal.namespace, dataConverter: dataConverter(keys.keyring) });
  const app = await buildApi({ config, client, store: new FolderEvidenceStore(config.evidenceDir), keyring: keys.keyring });
  await app.listen({ host: config.api.host, port: config.api.port });
  const tls = await listenCodecTls(app, config);
  const schedule = await ensureRetentionSchedule(client, config);
  console.log(`API: http://${config.api.host}:${config.api.port} (docs at /docs)`);
  console.log(`  ${describeKeyring(keys)}`);
  console.log(`  codec endpoint: ${tls ? `https://localhost:${config.personalData.codec.tls!.port}/codec` : `http://${config.api.host}:${config.api.port}/codec`} (for the Web UI at ${config.personalData.codec.uiOrigin})`);
  console.log(`  evidence retention: schedule ${schedule}`);
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
