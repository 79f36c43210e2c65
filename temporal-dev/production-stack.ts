/**
 * `npm run stack:production`: a production-shaped deployment on one machine, from the compiled output
 * (`npm run build`, then `node dist/temporal-dev/production-stack.js`):
 *
 *   PostgreSQL 15  (data in STACK_DIR/pg)  <- Temporal persistence + SQL advanced visibility, and the audit log
 *   Temporal server v1.29.1 (not the dev server), namespace `default` with our search attributes
 *   an S3-compatible server (moto; in a real deployment: your bucket) <- the evidence store
 *   the vendor sandboxes
 *   2 workers   node dist/workers/main.js
 *   2 APIs      node dist/client/main.js on STACK_API_PORT and STACK_API_PORT+1
 *
 * Every port comes from the environment (defaults in brackets): STACK_PG_PORT [5433], STACK_TEMPORAL_PORT [7233;
 * the server also takes the next 9 ports], STACK_S3_PORT [9000], STACK_SANDBOX_PORT [8090], STACK_API_PORT [8080].
 * SIGINT/SIGTERM stop everything in reverse order within 10 s. Prints the start time and each process's RSS.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client as PgClient } from 'pg';
import { ensureS3TestServer, ensureTemporalCli, ensureTemporalServer, projectRoot } from './ensure';
import { startPostgres, type PostgresHandle } from './postgres';
import { SEARCH_ATTRIBUTES } from './search-attributes';

const run = promisify(execFile);
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const log = (msg: string, extra: Record<string, unknown> = {}) => process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), component: 'stack', msg, ...extra })}\n`);

interface Proc {
  name: string;
  child: ChildProcess;
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 90_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

function serverConfig(pgPort: number, pgUser: string, base: number): string {
  const ds = (db: string, conns: number) => `
      sql:
        pluginName: "postgres12"
        databaseName: "${db}"
        connectAddr: "127.0.0.1:${pgPort}"
        connectProtocol: "tcp"
        user: "${pgUser}"
        password: ""
        maxConns: ${conns}
        maxIdleConns: ${conns}
        maxConnLifetime: "1h"`;
  const svc = (name: string, grpc: number, membership: number, extra = '') => `
  ${name}:
    rpc:
      grpcPort: ${grpc}
      membershipPort: ${membership}
      bindOnLocalHost: true${extra}`;
  return `log:
  stdout: true
  level: warn
persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: 4
  datastores:
    postgres-default:${ds('temporal', 20)}
    postgres-visibility:${ds('temporal_visibility', 4)}
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"
  metrics:
    prometheus:
      framework: "tally"
      timerType: "histogram"
      listenAddress: "127.0.0.1:${base + 9}"
services:${svc('frontend', base, base + 4, `\n      httpPort: ${base + 8}`)}${svc('history', base + 1, base + 5)}${svc('matching', base + 2, base + 6)}${svc('worker', base + 3, base + 7)}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: "127.0.0.1:${base}"
dcRedirectionPolicy:
  policy: "noop"
dynamicConfigClient:
  filepath: "config/dynamicconfig.yaml"
  pollInterval: "10s"
`;
}

const DYNAMIC_CONFIG = `limit.maxIDLength:
  - value: 255
frontend.enableUpdateWorkflowExecution:
  - value: true
frontend.enableExecuteMultiOperation:
  - value: true
system.enableDeployments:
  - value: true
system.enableDeploymentVersions:
  - value: true
frontend.workerVersioningWorkflowAPIs:
  - value: true
`;

function rssKb(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const root = projectRoot();
  const dir = path.resolve(process.env.STACK_DIR ?? path.join(root, 'data', 'stack'));
  const pgPort = env('STACK_PG_PORT', 5433);
  const base = env('STACK_TEMPORAL_PORT', 7233);
  const s3Port = env('STACK_S3_PORT', 9000);
  const sandboxPort = env('STACK_SANDBOX_PORT', 8090);
  const apiPort = env('STACK_API_PORT', 8080);
  const procs: Proc[] = [];
  let pg: PostgresHandle | undefined;
  let stopping = false;

  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => {
      for (const p of procs) p.child.kill('SIGKILL');
      process.exit(code || 1);
    }, 9000).unref();
    // Reverse order: APIs, workers, sandboxes, S3, Temporal, then PostgreSQL.
    for (const p of [...procs].reverse()) {
      if (p.child.exitCode !== null || p.child.signalCode !== null) continue;
      await new Promise<void>((resolve) => {
        p.child.once('exit', () => resolve());
        p.child.kill('SIGTERM');
      });
    }
    await pg?.stop(3000);
    log('stopped', { ms: Date.now() - t0 });
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  const spawnProc = (name: string, cmd: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}, cwd = root): ChildProcess => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    const prefix = (c: Buffer) => {
      for (const line of c.toString().split('\n')) if (line.trim()) process.stdout.write(line.startsWith('{') ? `${line.replace(/^\{/, `{"process":"${name}",`)}\n` : `${JSON.stringify({ process: name, msg: line })}\n`);
    };
    child.stdout!.on('data', prefix);
    child.stderr!.on('data', prefix);
    child.once('exit', (code, signal) => {
      // A replica may die (the scale-out test kills one of each): the others carry on.
      if (!stopping) log('process exited', { process: name, code, signal });
    });
    procs.push({ name, child });
    return child;
  };

  try {
    const [binDir, cli, moto] = await Promise.all([ensureTemporalServer(), ensureTemporalCli(), ensureS3TestServer()]);
    pg = await startPostgres({ dataDir: path.join(dir, 'pg'), port: pgPort, user: 'temporal' });
    log('postgresql ready', { port: pgPort, ms: Date.now() - t0 });
    await run('bash', [path.join(root, 'temporal-dev', 'setup-temporal-schema.sh'), '127.0.0.1', String(pgPort), 'temporal']);
    const admin = new PgClient({ connectionString: pg.url('postgres') });
    await admin.connect();
    await admin.query('CREATE DATABASE audit').catch(() => undefined); // exists already
    await admin.end();
    log('temporal schema ready', { ms: Date.now() - t0 });

    fs.mkdirSync(path.join(dir, 'config'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'config', 'development.yaml'), serverConfig(pgPort, 'temporal', base));
    fs.writeFileSync(path.join(dir, 'config', 'dynamicconfig.yaml'), DYNAMIC_CONFIG);
    spawnProc('temporal', path.join(binDir, 'server'), ['--root', dir, '--config', 'config', '--env', 'development', 'start'], {}, dir);
    const address = `127.0.0.1:${base}`;
    let lastNamespaceError = '';
    await waitFor('Temporal frontend', () => listening(base));
    // The frontend listens before the cluster's membership has settled; on a loaded machine that takes a while.
    await waitFor('namespace default', async () => {
      try {
        await run(cli, ['operator', 'namespace', 'describe', '--namespace', 'default', '--address', address]);
        return true;
      } catch {
        await run(cli, ['operator', 'namespace', 'create', '--namespace', 'default', '--retention', '720h', '--address', address]).catch((err: Error) => {
          lastNamespaceError = err.message.split('\n').slice(-2).join(' ');
        });
        return false;
      }
    }, 180_000).catch((err: Error) => {
      throw new Error(`${err.message}: ${lastNamespaceError}`);
    });
    // A list query with them is refused for a few seconds after they are added (and adding them right after the
    // namespace was created may fail): add them until such a query is accepted.
    let lastAdd = 0;
    await waitFor('search attributes', async () => {
      try {
        await run(cli, ['workflow', 'list', '--namespace', 'default', '--address', address, '--limit', '1', '--query', SEARCH_ATTRIBUTES.map((sa) => `${sa.name} IS NULL`).join(' AND ')]);
        return true;
      } catch {
        if (Date.now() - lastAdd > 5000) {
          lastAdd = Date.now();
          await run(cli, ['operator', 'search-attribute', 'create', '--namespace', 'default', '--address', address, ...SEARCH_ATTRIBUTES.flatMap((sa) => ['--name', sa.name, '--type', sa.type])]).catch(() => undefined);
        }
        return false;
      }
    });
    log('temporal server ready', { address, ms: Date.now() - t0 });

    spawnProc('s3', moto, ['-H', '127.0.0.1', '-p', String(s3Port)]);
    await waitFor('S3', () => listening(s3Port));
    await fetch(`http://127.0.0.1:${s3Port}/evidence`, { method: 'PUT' }); // CreateBucket (moto: no auth)

    const dist = path.join(root, 'dist');
    const common: NodeJS.ProcessEnv = {
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: 'default',
      SANDBOX_PORT: String(sandboxPort),
      PUBLIC_BASE_URL: `http://127.0.0.1:${apiPort}`,
      EVIDENCE_S3_BUCKET: 'evidence',
      EVIDENCE_S3_ENDPOINT: `http://127.0.0.1:${s3Port}`,
      AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'stack',
      AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'stack',
      AUDIT_DATABASE_URL: `postgres://temporal@127.0.0.1:${pgPort}/audit`,
      NODE_NO_WARNINGS: '1',
    };
    spawnProc('sandboxes', process.execPath, [path.join(dist, 'sandboxes', 'main.js')], { ...common, SANDBOX_STATE_FILE: path.join(dir, 'sandboxes.json') });
    await waitFor('sandboxes', () => listening(sandboxPort));
    for (const n of [1, 2]) spawnProc(`worker-${n}`, process.execPath, [path.join(dist, 'workers', 'main.js')], common);
    for (const n of [1, 2]) spawnProc(`api-${n}`, process.execPath, [path.join(dist, 'client', 'main.js')], { ...common, API_PORT: String(apiPort + n - 1) });
    await waitFor('APIs', async () => (await listening(apiPort)) && (await listening(apiPort + 1)), 120_000);
    await new Promise((r) => setTimeout(r, 2000)); // let the workers finish their first polls before measuring
    const rss = Object.fromEntries([...procs.map((p) => [p.name, rssKb(p.child.pid!)]), ['postgresql', rssKb(pg.pid)]]);
    const pids = Object.fromEntries(procs.map((p) => [p.name, p.child.pid]));
    log('ready', { startMs: Date.now() - t0, rssKb: rss, pids, apis: [apiPort, apiPort + 1], temporal: address, sandboxes: sandboxPort, s3: s3Port });
  } catch (err) {
    log('start failed', { error: (err as Error).message });
    await stopAll(1);
  }
}

void main();
