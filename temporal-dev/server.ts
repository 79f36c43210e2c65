/**
 * Local Temporal for development: the Temporal CLI dev server with SQLite persistence and the Web UI.
 *
 *   npx ts-node temporal-dev/server.ts          (or: node dist/temporal-dev/server.js)
 *
 * Environment:
 *   TEMPORAL_DEV_PORT     gRPC port (default 7233)
 *   TEMPORAL_DEV_UI_PORT  Web UI port (default 8233)
 *   TEMPORAL_DEV_IP       bind address (default 127.0.0.1; 0.0.0.0 to expose it)
 *   TEMPORAL_DEV_DB       SQLite file (default temporal-dev/data/temporal.db; "memory" for no persistence)
 *   TEMPORAL_CLI          use this temporal binary instead of finding/building one
 */
import path from 'node:path';
import { startDevServer, type DevServerHandle } from './dev-server';
import { ensureTemporalCli, temporalDevDir } from './ensure';

export interface LocalTemporalOptions {
  port?: number;
  uiPort?: number;
  ip?: string;
  /** SQLite file; null for in-memory. */
  dbFile?: string | null;
  log?: (line: string) => void;
  /** See DevServerOptions.detached (an all-in-one launcher wants true to control shutdown order). */
  detached?: boolean;
  /** Extra `temporal server start-dev` arguments (e.g. `--ui-codec-endpoint <url>`). */
  extraArgs?: string[];
}

function envPort(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`${name}=${raw} is not a valid port`);
  return port;
}

function defaultDbFile(): string | null {
  const raw = process.env.TEMPORAL_DEV_DB;
  if (raw === 'memory') return null;
  return raw ? path.resolve(raw) : path.join(temporalDevDir(), 'data', 'temporal.db');
}

/** Ensures the CLI, starts the persistent dev server with the Web UI and returns its handle (call stop()). */
export async function runLocalTemporal(opts: LocalTemporalOptions = {}): Promise<DevServerHandle> {
  const cliPath = await ensureTemporalCli();
  const port = opts.port ?? envPort('TEMPORAL_DEV_PORT', 7233);
  const uiPort = opts.uiPort ?? envPort('TEMPORAL_DEV_UI_PORT', 8233);
  const ip = opts.ip ?? process.env.TEMPORAL_DEV_IP ?? '127.0.0.1';
  const dbFile = opts.dbFile === undefined ? defaultDbFile() : opts.dbFile;
  const server = await startDevServer({
    cliPath,
    port,
    uiPort,
    ip,
    dbFile: dbFile ?? undefined,
    log: opts.log ?? ((line) => process.stderr.write(`[temporal] ${line}\n`)),
    detached: opts.detached,
    extraArgs: opts.extraArgs,
  });
  const shownHost = ip === '127.0.0.1' || ip === '0.0.0.0' ? 'localhost' : ip;
  console.log(
    `Temporal dev server: gRPC ${shownHost}:${port}, Web UI http://${shownHost}:${uiPort}` +
      (dbFile ? ` (data: ${path.relative(process.cwd(), dbFile) || dbFile})` : ' (in-memory)'),
  );
  return server;
}

async function main(): Promise<void> {
  // Own process group: Ctrl-C reaches only us, and we stop the server in order (it then exits cleanly).
  const server = await runLocalTemporal({ detached: true });
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the Temporal dev server…`);
    server.stop().then(
      () => process.exit(0),
      (err) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  const code = await server.exited;
  if (!stopping) {
    console.error(`The Temporal dev server exited unexpectedly (code ${code}).`);
    process.exit(1);
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
