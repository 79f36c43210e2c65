/** Runs the API on API_HOST:API_PORT (and the codec over HTTPS on CODEC_TLS_PORT when configured). */
import { Client, Connection } from '@temporalio/client';
import { loadConfigOrExit } from '../config';
import { buildApi } from './app';
import { listenCodecTls } from './codec';
import { ensureRetentionSchedule } from './retention-schedule';
import { FolderEvidenceStore } from '../activities/evidence-store';
import { s3EvidenceStoreFromEnv } from '../activities/s3-evidence-store';
import { dataConverter, describeKeyring, resolveAuditKeyring, resolvePayloadKeyring } from '../codec';
import { postgresAuditLogFor } from './pg-audit-log';
import { installTracing, tracingClientInterceptors } from '../observability/tracing';

async function main() {
  const config = loadConfigOrExit();
  const keys = resolvePayloadKeyring(config);
  // Traces by OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set (observability/tracing.ts); off, nothing is installed.
  const tracing = installTracing({
    serviceName: config.telemetry.serviceName ?? 'idv-api',
    otlpEndpoint: config.telemetry.otlpEndpoint,
  });
  const connection = await Connection.connect(config.temporal.connectionOptions);
  const client = new Client({
    connection,
    namespace: config.temporal.namespace,
    dataConverter: dataConverter(keys.keyring),
    interceptors: tracingClientInterceptors(),
  });
  const auditKeyring = resolveAuditKeyring(config);
  const pgAudit = postgresAuditLogFor(config.personalData.auditDatabaseUrl, auditKeyring, keys.keyring);
  await pgAudit?.migrate();
  const store = s3EvidenceStoreFromEnv() ?? new FolderEvidenceStore(config.evidenceDir);
  const app = await buildApi({
    config,
    client,
    store,
    keyring: keys.keyring,
    auditKeyring,
    ...(pgAudit ? { auditLog: pgAudit } : {}),
  });
  await app.listen({ host: config.api.host, port: config.api.port });
  const tls = await listenCodecTls(app, config);
  const schedule = await ensureRetentionSchedule(client, config);
  console.log(`API: http://${config.api.host}:${config.api.port} (docs at /docs)`);
  console.log(`  ${describeKeyring(keys)}`);
  console.log(
    `  codec endpoint: ${tls ? `https://localhost:${config.personalData.codec.tls!.port}/codec` : `http://${config.api.host}:${config.api.port}/codec`} (for the Web UI at ${config.personalData.codec.uiOrigin})`,
  );
  console.log(`  evidence retention: schedule ${schedule}`);
  console.log(
    `  evidence store: ${'bucket' in store ? `S3 bucket ${store.bucket}` : config.evidenceDir}; audit log: ${pgAudit ? 'PostgreSQL (AUDIT_DATABASE_URL)' : config.personalData.auditDir}`,
  );
  if (tracing) console.log(`  traces: OTLP to ${config.telemetry.otlpEndpoint}`);
  for (const note of config.notes) console.log(`  note: ${note}`);
  const stop = async () => {
    await app.close();
    await pgAudit?.close();
    await connection.close();
    await tracing?.shutdown();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((err) => {
  console.error(`API failed to start: ${(err as Error).message}`);
  process.exit(1);
});
