/**
 * `npm run stack:production`: a production-shaped deployment on one machine, from the compiled output
 * (`npm run build`, then `node dist/temporal-dev/production-stack.js`):
 *
 *   PostgreSQL 15  (data in STACK_DIR/pg)  <- Temporal persistence + SQL advanced visibility, and the audit log
 *   Temporal server v1.29.1 (not the dev server), namespace `default` with our search attributes
 *   the Temporal Web UI server v2.42.1, pointed at that server and at the APIs' codec endpoint
 *   an S3-compatible server (moto; in a real deployment: your bucket) <- the evidence store
 *   the vendor sandboxes
 *   2 workers   node dist/workers/main.js
 *   2 APIs      node dist/client/main.js on STACK_API_PORT and STACK_API_PORT+1
 *
 * Every port comes from the environment (defaults in brackets): STACK_PG_PORT [5433], STACK_TEMPORAL_PORT [7233;
 * the server also takes the next 9 ports], STACK_S3_PORT [9000], STACK_SANDBOX_PORT [8090], STACK_API_PORT [8080],
 * STACK_UI_PORT [8233]. STACK_START_TIMEOUT_S [600]: the whole start's deadline (a loaded 2-core machine needs
 * minutes); a part that does not come up by then, or exits, fails the start with its name and its last output.
 * `ready` is logged only when each part answers: Temporal serves the namespace and a query on our search
 * attributes, each worker process polls every vendor task queue (workflow and activity), each API's /readyz
 * answers 200, the Web UI's /healthz answers. SIGINT/SIGTERM stop everything in reverse order within 10 s.
 * Logs the start time of each stage and each process's resident memory at idle.
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client as PgClient } from 'pg';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { PROVIDERS } from '../config';
import { workflowTaskQueueOf } from '../config/task-queues';
import {
  ensureS3TestServer,
  ensureTemporalCli,
  ensureTemporalServer,
  ensureTemporalUiServer,
  projectRoot,
} from './ensure';
import { startPostgres, type PostgresHandle } from './postgres';
import { SEARCH_ATTRIBUTES } from './search-attributes';
import { answers200, exited, listening, rssKb, waitFor, workersPolling, type Proc } from './production-stack-probes';
import { DYNAMIC_CONFIG, serverConfig, uiConfig } from './production-stack-config';

const run = promisify(execFile);
/** gRPC status codes (numbers, to avoid a direct dependency on @grpc/grpc-js). */
const grpcStatus = { NOT_FOUND: 5, ALREADY_EXISTS: 6 } as const;
const taskQueuePrefix = process.env.TASK_QUEUE_PREFIX ?? 'idv';
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const log = (msg: string, extra: Record<string, unknown> = {}) =>
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), component: 'stack', msg, ...extra })}\n`);

async function main(): Promise<void> {
  const root = projectRoot();
  const dir = path.resolve(process.env.STACK_DIR ?? path.join(root, 'data', 'stack'));
  const pgPort = env('STACK_PG_PORT', 5433);
  const base = env('STACK_TEMPORAL_PORT', 7233);
  const s3Port = env('STACK_S3_PORT', 9000);
  const sandboxPort = env('STACK_SANDBOX_PORT', 8090);
  const apiPort = env('STACK_API_PORT', 8080);
  const uiPort = env('STACK_UI_PORT', 8233);
  // The server keeps its membership ports (base+4..base+7) in cluster_membership.rpc_port, a PostgreSQL
  // smallint: a port above 32767 is fatal at start ("unable to initialize membership heartbeats").
  if (base + 9 > 32767) {
    log('start failed', {
      error: `STACK_TEMPORAL_PORT ${base}: the Temporal server uses it and the next 9 ports, and stores its membership ports in a PostgreSQL smallint; choose one at most 32758`,
    });
    process.exit(1);
  }
  const procs: Proc[] = [];
  let pg: PostgresHandle | undefined;
  let connection: Connection | undefined;
  let stopping = false;
  let t0 = Date.now();

  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    const s0 = Date.now();
    setTimeout(() => {
      for (const p of procs) p.child.kill('SIGKILL');
      process.exit(code || 1);
    }, 9000).unref();
    await connection?.close().catch(() => undefined);
    // Reverse order: UI, APIs, workers, sandboxes, S3, Temporal, then PostgreSQL.
    for (const p of [...procs].reverse()) {
      if (exited(p)) continue;
      await new Promise<void>((resolve) => {
        p.child.once('exit', () => resolve());
        p.child.kill('SIGTERM');
      });
    }
    await pg?.stop(3000);
    log('stopped', { ms: Date.now() - s0 });
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  const spawnProc = (name: string, cmd: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}, cwd = root): Proc => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    const proc: Proc = { name, child, tail: [] };
    const prefix = (c: Buffer) => {
      for (const line of c.toString().split('\n')) {
        if (!line.trim()) continue;
        proc.tail = [...proc.tail.slice(-19), line.slice(0, 300)];
        process.stdout.write(
          line.startsWith('{')
            ? `${line.replace(/^\{/, `{"process":"${name}",`)}\n`
            : `${JSON.stringify({ process: name, msg: line })}\n`,
        );
      }
    };
    child.stdout.on('data', prefix);
    child.stderr.on('data', prefix);
    child.once('exit', (code, signal) => {
      // A replica may die (the scale-out test kills one of each): the others carry on.
      if (!stopping) log('process exited', { process: name, code, signal });
    });
    procs.push(proc);
    return proc;
  };

  try {
    // The binaries first (built once; a cold Go build of the server takes minutes): not part of the start time.
    const [binDir, uiDir, cli, moto] = await Promise.all([
      ensureTemporalServer(),
      ensureTemporalUiServer(),
      ensureTemporalCli(),
      ensureS3TestServer(),
    ]);
    t0 = Date.now();
    const deadline = t0 + env('STACK_START_TIMEOUT_S', 600) * 1000;
    const stages: Record<string, number> = {};
    const stage = (name: string, extra: Record<string, unknown> = {}) => {
      stages[name] = Date.now() - t0;
      log(`${name} ready`, { ms: stages[name], ...extra });
    };

    pg = await startPostgres({ dataDir: path.join(dir, 'pg'), port: pgPort, user: 'temporal' });
    stage('postgresql', { port: pgPort });

    const dist = path.join(root, 'dist');
    const address = `127.0.0.1:${base}`;
    const codecEndpoint = `http://localhost:${apiPort}/codec`;
    const uiOrigin = `http://localhost:${uiPort}`;
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
      CODEC_UI_ORIGIN: uiOrigin,
      NODE_NO_WARNINGS: '1',
    };
    // S3 and the sandboxes need neither PostgreSQL nor Temporal: they come up while Temporal does.
    const s3 = spawnProc('s3', moto, ['-H', '127.0.0.1', '-p', String(s3Port)]);
    const sandboxes = spawnProc('sandboxes', process.execPath, [path.join(dist, 'sandboxes', 'main.js')], {
      ...common,
      SANDBOX_STATE_FILE: path.join(dir, 'sandboxes.json'),
    });
    const sideParts = (async () => {
      await waitFor('S3 server', deadline, () => listening(s3Port), [s3]);
      await waitFor(
        'S3 bucket',
        deadline,
        async () => {
          const res = await fetch(`http://127.0.0.1:${s3Port}/evidence`, { method: 'PUT' }); // CreateBucket (moto: no auth)
          return res.ok || res.status === 409;
        },
        [s3],
      );
      stage('s3', { port: s3Port });
      await waitFor('sandboxes', deadline, () => listening(sandboxPort), [sandboxes]);
      stage('sandboxes', { port: sandboxPort });
    })();
    sideParts.catch(() => undefined); // awaited below; no unhandled rejection meanwhile

    await run('bash', [
      path.join(root, 'temporal-dev', 'setup-temporal-schema.sh'),
      '127.0.0.1',
      String(pgPort),
      'temporal',
    ]);
    const admin = new PgClient({ connectionString: pg.url('postgres') });
    await admin.connect();
    await admin.query('CREATE DATABASE audit').catch(() => undefined); // exists already
    await admin.end();
    stage('temporal schema');

    fs.mkdirSync(path.join(dir, 'config'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'config', 'development.yaml'), serverConfig(pgPort, 'temporal', base));
    fs.writeFileSync(path.join(dir, 'config', 'dynamicconfig.yaml'), DYNAMIC_CONFIG);
    const server = spawnProc(
      'temporal',
      path.join(binDir, 'server'),
      ['--root', dir, '--config', 'config', '--env', 'development', 'start'],
      {},
      dir,
    );
    await waitFor('Temporal frontend (gRPC port)', deadline, () => listening(base), [server]);
    connection = await Connection.connect({ address, connectTimeout: '30s' });
    const svc = connection.workflowService;
    // The frontend listens before the cluster's membership has settled (ringpop join, shard ownership); on a
    // loaded machine that takes a while. Until then describe/register answer Unavailable.
    await waitFor(
      'Temporal namespace default',
      deadline,
      async () => {
        try {
          await svc.describeNamespace({ namespace: 'default' });
          return true;
        } catch (err) {
          if ((err as { code?: number }).code !== grpcStatus.NOT_FOUND) throw err;
          await svc
            .registerNamespace({ namespace: 'default', workflowExecutionRetentionPeriod: msToTs('30 days') })
            .catch((e: { code?: number }) => {
              if (e.code !== grpcStatus.ALREADY_EXISTS) throw e;
            });
          return false;
        }
      },
      [server],
    );
    stage('temporal namespace', { address });
    // A list query with them is refused for a few seconds after they are added (and adding them right after the
    // namespace was created may fail): add them until such a query is accepted.
    let lastAdd = 0;
    const query = SEARCH_ATTRIBUTES.map((sa) => `${sa.name} IS NULL`).join(' AND ');
    await waitFor(
      'Temporal search attributes',
      deadline,
      async () => {
        try {
          await svc.listWorkflowExecutions({ namespace: 'default', pageSize: 1, query });
          return true;
        } catch (err) {
          if (Date.now() - lastAdd > 5000) {
            lastAdd = Date.now();
            await run(cli, [
              'operator',
              'search-attribute',
              'create',
              '--namespace',
              'default',
              '--address',
              address,
              ...SEARCH_ATTRIBUTES.flatMap((sa) => ['--name', sa.name, '--type', sa.type]),
            ]).catch(() => undefined);
          }
          throw err;
        }
      },
      [server],
    );
    stage('temporal server', { address });
    await sideParts;

    const workers = [1, 2].map((n) =>
      spawnProc(`worker-${n}`, process.execPath, [path.join(dist, 'workers', 'main.js')], common),
    );
    const apis = [1, 2].map((n) =>
      spawnProc(`api-${n}`, process.execPath, [path.join(dist, 'client', 'main.js')], {
        ...common,
        API_PORT: String(apiPort + n - 1),
      }),
    );
    fs.mkdirSync(path.join(dir, 'ui', 'config'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'ui', 'config', 'base.yaml'), uiConfig(address, uiPort, codecEndpoint));
    fs.writeFileSync(path.join(dir, 'ui', 'config', 'production.yaml'), '# everything is in base.yaml\n');
    const ui = spawnProc('ui', path.join(uiDir, 'server'), [
      '--root',
      path.join(dir, 'ui'),
      '--config',
      'config',
      '--env',
      'production',
      'start',
    ]);

    await Promise.all([
      waitFor('Temporal Web UI (/healthz)', deadline, () => answers200(`http://127.0.0.1:${uiPort}/healthz`), [
        ui,
      ]).then(() => stage('ui', { url: uiOrigin })),
      // Each API is ready when it listens and reaches Temporal.
      waitFor(
        'APIs (/readyz)',
        deadline,
        async () =>
          (await Promise.all(apis.map((_, i) => answers200(`http://127.0.0.1:${apiPort + i}/readyz`)))).every(Boolean),
        apis,
      ).then(() => stage('apis', { ports: [apiPort, apiPort + 1] })),
      // Each worker bundles the workflow code (webpack: the slowest part on a loaded machine), then polls.
      waitFor(
        'workers (polling the workflow queue and every vendor task queue)',
        deadline,
        () =>
          workersPolling(
            connection!,
            workflowTaskQueueOf(taskQueuePrefix),
            PROVIDERS.map((p) => `${taskQueuePrefix}-${p}`),
            workers.map((w) => w.child.pid!),
          ),
        workers,
      ).then(() => stage('workers')),
    ]);
    await new Promise((r) => setTimeout(r, 2000)); // let the first polls settle before measuring
    const rss: Record<string, number | null> = Object.fromEntries([
      ...procs.map((p): [string, number | null] => [p.name, rssKb(p.child.pid!)]),
      ['postgresql', rssKb(pg.pid)],
    ]);
    const pids = Object.fromEntries(procs.map((p) => [p.name, p.child.pid]));
    log('ready', {
      startMs: Date.now() - t0,
      stagesMs: stages,
      rssKb: rss,
      pids,
      apis: [apiPort, apiPort + 1],
      temporal: address,
      sandboxes: sandboxPort,
      s3: s3Port,
      ui: uiOrigin,
      codec: codecEndpoint,
    });
  } catch (err) {
    log('start failed', { error: (err as Error).message, ms: Date.now() - t0 });
    await stopAll(1);
  }
}

void main();
