/**
 * Starts/stops a local Temporal dev server (`temporal server start-dev` from the Temporal CLI) as a child process.
 *
 * Used by temporal-dev/server.ts (local development, SQLite persistence, Web UI) and by the jest global setup
 * (one in-memory headless server per test run).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { cliSearchAttributeArgs } from './search-attributes';

export interface DevServerOptions {
  /** Absolute path of the `temporal` CLI (see temporal-dev/ensure-cli.sh / ensureTemporalCli()). */
  cliPath: string;
  /** Frontend gRPC port. */
  port: number;
  /** Web UI port (the CLI defaults to port + 1000). Ignored when headless. */
  uiPort?: number;
  /** Disable the Web UI. */
  headless?: boolean;
  /** SQLite file for persistence; omit for an in-memory server (state is lost on exit). */
  dbFile?: string;
  /** IP to bind the frontend (and UI) to. Default 127.0.0.1. */
  ip?: string;
  /** Namespace created at start-up. Default "default". */
  namespace?: string;
  /** Server log level (debug, info, warn, error, never). Default "warn". */
  logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'never';
  /** Receives every stdout/stderr line of the server process. Default: lines are dropped (but kept for errors). */
  log?: (line: string) => void;
  /** Extra CLI args appended to `temporal server start-dev ...`. */
  extraArgs?: string[];
  /** How long to wait for the server to answer. Default 60 s. */
  startTimeoutMs?: number;
  /**
   * Run the server in its own process group, so a terminal Ctrl-C reaches only this Node process, which can then
   * stop its workers before the server (call stop()). Default false: Ctrl-C also reaches the server directly.
   */
  detached?: boolean;
}

export interface DevServerHandle {
  /** host:port to pass to Connection.connect / NativeConnection.connect. */
  readonly address: string;
  /** Web UI URL, unless headless. */
  readonly uiUrl?: string;
  readonly namespace: string;
  readonly pid: number;
  /** Resolves with the exit code when the server process exits (for any reason). */
  readonly exited: Promise<number | null>;
  /** SIGTERM, wait for exit, SIGKILL after 10 s. Idempotent. */
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 10_000;
const OUTPUT_TAIL_LINES = 40;

/** A TCP port that was free a moment ago on 127.0.0.1 (the usual, small race applies). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

/** The host a client should dial for a server bound to `ip`. */
export function connectHost(ip: string): string {
  if (ip === '0.0.0.0') return '127.0.0.1';
  if (ip === '::' || ip === '[::]') return '[::1]';
  return ip.includes(':') && !ip.startsWith('[') ? `[${ip}]` : ip;
}

/** Builds the `temporal server start-dev ...` argument list. */
export function devServerArgs(opts: DevServerOptions): string[] {
  const ip = opts.ip ?? '127.0.0.1';
  const args = [
    'server',
    'start-dev',
    '--port',
    String(opts.port),
    '--ip',
    ip,
    '--namespace',
    opts.namespace ?? 'default',
    '--log-level',
    opts.logLevel ?? 'warn',
    '--color',
    'never',
    // No phoning home for a version check (there is no internet here, and it is noise anyway).
    '--dynamic-config-value',
    'frontend.enableServerVersionCheck=false',
    ...cliSearchAttributeArgs(),
  ];
  if (opts.headless) args.push('--headless');
  else if (opts.uiPort !== undefined) args.push('--ui-port', String(opts.uiPort));
  if (opts.dbFile) args.push('--db-filename', opts.dbFile);
  args.push(...(opts.extraArgs ?? []));
  return args;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function tcpOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: host.replace(/^\[|\]$/g, ''), port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** True once the frontend answers GetSystemInfo and the namespace is registered. */
async function serverAnswers(address: string, namespace: string): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: 2_000 });
    await connection.withDeadline(Date.now() + 2_000, async () => {
      await connection!.workflowService.getSystemInfo({});
      await connection!.workflowService.describeNamespace({ namespace });
    });
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

export async function startDevServer(opts: DevServerOptions): Promise<DevServerHandle> {
  const ip = opts.ip ?? '127.0.0.1';
  const host = connectHost(ip);
  const address = `${host}:${opts.port}`;
  const namespace = opts.namespace ?? 'default';
  const timeoutMs = opts.startTimeoutMs ?? 60_000;
  const uiUrl = opts.headless ? undefined : `http://${host}:${opts.uiPort ?? opts.port + 1000}`;

  if (opts.dbFile) fs.mkdirSync(path.dirname(path.resolve(opts.dbFile)), { recursive: true });

  // Refuse early if something already listens there: otherwise we would "connect" to the other server.
  if (await tcpOpen(host, opts.port, 500)) {
    throw new Error(
      `Cannot start the Temporal dev server: ${address} is already in use (another Temporal server running?).`,
    );
  }

  const args = devServerArgs(opts);
  const child: ChildProcess = spawn(opts.cliPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.detached ?? false,
  });

  const tail: string[] = [];
  let stopRequested = false;
  const onOutput = (stream: NodeJS.ReadableStream | null) => {
    if (!stream) return;
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const lines = (partial + chunk).split(/\r?\n/);
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > OUTPUT_TAIL_LINES) tail.shift();
        // Once stop() was called, the server's shutdown chatter (poll failures, dial errors) is only noise.
        if (!stopRequested) opts.log?.(line);
      }
    });
  };
  onOutput(child.stdout);
  onOutput(child.stderr);
  const lastLines = () => (tail.length ? `\n--- last server output ---\n${tail.join('\n')}` : '');

  let exitCode: number | null | undefined;
  let spawnError: Error | undefined;
  const exited = new Promise<number | null>((resolve) => {
    child.once('error', (err) => {
      spawnError = err;
      exitCode = null;
      resolve(null);
    });
    child.once('exit', (code, signal) => {
      exitCode = code ?? (signal ? null : 0);
      resolve(exitCode);
    });
  });

  // Never leave an orphaned server behind if this Node process exits without calling stop().
  const killOnExit = () => {
    if (exitCode === undefined) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      stopRequested = true;
      if (exitCode === undefined) {
        child.kill('SIGTERM');
        const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), STOP_GRACE_MS).unref());
        if ((await Promise.race([exited, timer])) === 'timeout') {
          child.kill('SIGKILL');
          await exited;
        }
      }
      process.removeListener('exit', killOnExit);
    })();
    return stopping;
  };

  const started = Date.now();
  const deadline = started + timeoutMs;
  try {
    for (;;) {
      if (spawnError) {
        throw new Error(`Cannot run the Temporal CLI at ${opts.cliPath}: ${spawnError.message}`);
      }
      if (exitCode !== undefined) {
        throw new Error(
          `The Temporal dev server exited with code ${exitCode} before answering on ${address}.${lastLines()}`,
        );
      }
      if ((await tcpOpen(host, opts.port)) && (await serverAnswers(address, namespace))) break;
      if (Date.now() > deadline) {
        throw new Error(
          `The Temporal dev server did not answer on ${address} within ${Math.round(timeoutMs / 1000)}s ` +
            `(command: ${opts.cliPath} ${args.join(' ')}).${lastLines()}`,
        );
      }
      await sleep(100);
    }
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    address,
    uiUrl,
    namespace,
    pid: child.pid!,
    exited,
    stop,
  };
}
