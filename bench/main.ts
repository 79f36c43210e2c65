/**
 * `npm run bench`: our service measured side by side with a bare Temporal skeleton, on one Temporal
 * dev server, in one run (issue 14). Not part of the jest run.
 *
 *   npm run bench                      every scenario with the full counts (p3: 10,000 parked flows)
 *   npm run bench -- --quick           small counts (a smoke run: the figures are not the goals' figures)
 *   npm run bench -- --only p1,p3      some scenarios; the others are carried from the previous latest.json
 *   npm run bench -- --with-tests      also p5 (`npm test` wall time, minutes); otherwise p5 is carried
 *   npm run bench -- --profile         V8 CPU profiles of both workers and APIs (.cpuprofile, in the logs folder)
 *   npm run bench -- --compiled        every process from the compiled build (runs `npm run build` first)
 *                                      instead of ts-node (what `npm run worker|api` use)
 *   npm run bench -- --only p3 --quick --parked 2000 --ours-only
 *                                      a targeted run: p3 with another count, our side only (one lever at a time)
 *
 * It starts, each as a process of its own on free loopback ports: a Temporal dev server (in memory,
 * the CLI from temporal-dev/), our vendor sandboxes (bench/our-sandboxes.ts), our worker (bench/our-worker.ts: the production
 * createWorkers), our API (client/main.ts), the skeleton's worker and bare API; it stops exactly those.
 * Writes bench/results/latest.json, an SVG per scenario, and prints a table.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { freePort, startDevServer, type DevServerHandle } from '../temporal-dev/dev-server';
import { ensureTemporalCli, projectRoot } from '../temporal-dev/ensure';
import { FULL, QUICK, http, type BenchContext } from './context';
import { httpReady, ready, spawnTs, type Proc } from './processes';
import { p1, type P1Result } from './scenarios/p1';
import { p2, type P2Result } from './scenarios/p2';
import { p3, type P3Result } from './scenarios/p3';
import { p5 } from './scenarios/p5';
import { chart } from './svg';
import { round } from './load';
import { DEFAULT_MAX_CACHED_WORKFLOWS } from '../config/worker';

const SCENARIOS = ['p1', 'p2', 'p3', 'p5'] as const;
type Scenario = (typeof SCENARIOS)[number];

interface Args {
  quick: boolean;
  compiled: boolean;
  profile: boolean;
  only: Scenario[];
  withTests: boolean;
  /** p3's parked flows instead of the mode's (a targeted run: lever by lever, not the goals' figure). */
  parked?: number;
  /** p3 without the skeleton's side (a targeted run measuring only our worker). */
  oursOnly: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    quick: false,
    compiled: false,
    profile: false,
    only: ['p1', 'p2', 'p3'],
    withTests: false,
    oursOnly: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') args.quick = true;
    else if (a === '--compiled') args.compiled = true;
    else if (a === '--profile') args.profile = true;
    else if (a === '--with-tests') args.withTests = true;
    else if (a === '--ours-only') args.oursOnly = true;
    else if (a === '--parked') {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1 || n > 10_000) fail('--parked takes a whole number of flows, 1 to 10000');
      args.parked = n;
    } else if (a === '--only' || a.startsWith('--only=')) {
      const list = a.includes('=') ? a.slice(7) : argv[++i];
      const picked = (list ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const bad = picked.filter((s) => !SCENARIOS.includes(s as Scenario));
      if (!picked.length || bad.length)
        fail(`--only takes a comma list of ${SCENARIOS.join(', ')}${bad.length ? ` (not: ${bad.join(', ')})` : ''}`);
      args.only = picked as Scenario[];
    } else if (a === '--help' || a === '-h') {
      console.log(
        'npm run bench [-- --quick] [--only p1,p2,p3,p5] [--with-tests] [--compiled] [--profile] [--parked N] [--ours-only]',
      );
      process.exit(0);
    } else fail(`unknown argument ${a} (try --help)`);
  }
  if (args.withTests && !args.only.includes('p5')) args.only.push('p5');
  if (args.only.includes('p5')) args.withTests = true;
  return args;
}

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

const log = (line: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const root = projectRoot();
  const resultsDir = path.join(root, 'bench', 'results');
  fs.mkdirSync(resultsDir, { recursive: true });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'idv-bench-'));
  const logDir = path.join(work, 'logs');
  fs.mkdirSync(logDir);
  const base = args.quick ? QUICK : FULL;
  const counts = {
    ...base,
    p3: {
      ...base.p3,
      ...(args.parked
        ? { parked: args.parked, maxSeconds: Math.max(base.p3.maxSeconds, Math.ceil(args.parked / 2)) }
        : {}),
      oursOnly: args.oursOnly,
    },
  };
  const runId = crypto.randomBytes(3).toString('hex');
  const date = new Date().toISOString();
  const loadAtStart = os.loadavg().map((l) => round(l, 2));
  log(`mode ${args.quick ? 'quick' : 'full'}, scenarios ${args.only.join(', ')}; logs in ${logDir}`);

  const stops: (() => Promise<unknown>)[] = [];
  let stopping = false;
  const stopAll = async () => {
    if (stopping) return;
    stopping = true;
    for (const stop of stops.reverse())
      await stop().catch((err) => console.error(`while stopping: ${(err as Error).message}`));
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => void stopAll().finally(() => process.exit(130)));

  const results: Record<string, unknown> = {};
  try {
    const needStack = args.only.some((s) => s !== 'p5');
    if (needStack && args.compiled) {
      log('compiling (npm run build)…');
      const built = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit', timeout: 600_000 });
      if (built.status !== 0) throw new Error('npm run build failed');
    }
    if (needStack) {
      const server: DevServerHandle = await startDevServer({
        cliPath: await ensureTemporalCli(),
        port: await freePort(),
        headless: true,
        logLevel: 'error',
      });
      stops.push(() => server.stop());
      log(`Temporal dev server ${server.address} (pid ${server.pid})`);
      const [apiPort, sandboxPort, skeletonPort] = [await freePort(), await freePort(), await freePort()];
      const apiKey = crypto.randomBytes(18).toString('base64url');
      const common = { ...process.env, TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: 'default' };
      const oursEnv: NodeJS.ProcessEnv = {
        ...common,
        APP_ENV: 'development',
        // Production's default (one log line per request), unless the bench is started with another.
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
        API_HOST: '127.0.0.1',
        API_PORT: String(apiPort),
        API_KEYS: `bench:${apiKey}`,
        PUBLIC_BASE_URL: `http://127.0.0.1:${apiPort}`,
        WEBHOOK_SECRET: crypto.randomBytes(24).toString('base64url'),
        SANDBOX_HOST: '127.0.0.1',
        SANDBOX_PORT: String(sandboxPort),
        EVIDENCE_DIR: path.join(work, 'evidence'),
        AUDIT_DIR: path.join(work, 'audit'),
        TASK_QUEUE_PREFIX: `bench-${runId}`,
        PAYLOAD_KEYS: `bench:${crypto.randomBytes(32).toString('base64')}`,
        PAYLOAD_CURRENT_KEY: 'bench',
        // The sandboxes have no quota, and the skeleton has no limit: the default per-vendor rate limit
        // (an assumed 20/s, docs/operations.md, rate limits) would cap our figures, not measure them.
        VENDOR_RATE_LIMITS: process.env.VENDOR_RATE_LIMITS ?? '*:off',
        // Likewise the API's own limit per key (1,200 a minute): p3's GET phase alone sends more than that.
        API_RATE_LIMIT_PER_KEY: process.env.API_RATE_LIMIT_PER_KEY ?? '10000000',
        API_RATE_LIMIT_PER_ADDRESS: process.env.API_RATE_LIMIT_PER_ADDRESS ?? '10000000',
      };
      const skeletonEnv: NodeJS.ProcessEnv = {
        ...common,
        SKELETON_TASK_QUEUE: `skeleton-${runId}`,
        PORT: String(skeletonPort),
      };
      const gc = ['--expose-gc'];
      const profiles = path.join(logDir, 'profiles');
      // One file per thread (the worker's workflow code runs in a worker thread), written when the process
      // exits (the bench stops them gracefully); open them in Chrome DevTools.
      const profile = (name: string) =>
        args.profile && name !== 'sandboxes' ? ['--cpu-prof', `--cpu-prof-dir=${path.join(profiles, name)}`] : [];
      const start = (name: string, script: string, env: NodeJS.ProcessEnv, ipc = false): Proc => {
        const p = spawnTs({
          name,
          script,
          root,
          env,
          logDir,
          ipc,
          nodeArgs: [...(ipc ? gc : []), ...profile(name)],
          compiled: args.compiled,
        });
        stops.push(() => p.stop());
        return p;
      };
      // One at a time: bundling workflow code takes both cores for a while.
      const sandbox = start('sandboxes', 'bench/our-sandboxes.ts', oursEnv);
      await httpReady(sandbox, `http://127.0.0.1:${sandboxPort}/`);
      const ourWorker = start('worker', 'bench/our-worker.ts', oursEnv, true);
      await ready(ourWorker);
      const api = start('api', 'client/main.ts', oursEnv);
      await httpReady(api, `http://127.0.0.1:${apiPort}/healthz`);
      const skeletonWorker = start('skeleton-worker', 'bench/skeleton/worker.ts', skeletonEnv, true);
      await ready(skeletonWorker);
      const skeletonApi = start('skeleton-api', 'bench/skeleton/api.ts', skeletonEnv);
      await httpReady(skeletonApi, `http://127.0.0.1:${skeletonPort}/healthz`);
      log(
        `started: sandboxes ${sandbox.pid}, worker ${ourWorker.pid}, api ${api.pid}, skeleton worker ${skeletonWorker.pid}, skeleton api ${skeletonApi.pid}`,
      );

      const connection = await Connection.connect({ address: server.address });
      stops.push(() => connection.close());
      const apiUrl = `http://127.0.0.1:${apiPort}`;
      const ctx: BenchContext = {
        counts,
        runId,
        apiUrl,
        apiKey,
        sandboxUrl: `http://127.0.0.1:${sandboxPort}`,
        skeletonUrl: `http://127.0.0.1:${skeletonPort}`,
        api: http(apiUrl, { authorization: `Bearer ${apiKey}` }),
        skeleton: http(`http://127.0.0.1:${skeletonPort}`),
        sandbox: http(`http://127.0.0.1:${sandboxPort}`),
        client: new Client({ connection, namespace: 'default' }),
        ourWorker,
        skeletonWorker,
        temporalPid: server.pid,
        pids: {
          temporal: server.pid,
          sandboxes: sandbox.pid,
          worker: ourWorker.pid,
          api: api.pid,
          'skeleton-worker': skeletonWorker.pid,
          'skeleton-api': skeletonApi.pid,
        },
        log,
      };
      const runs: [Scenario, (c: BenchContext) => Promise<unknown>][] = [
        ['p1', p1],
        ['p2', p2],
        ['p3', p3],
      ];
      for (const [name, run] of runs) {
        if (!args.only.includes(name)) continue;
        const t0 = Date.now();
        try {
          const loadAverage1m = round(os.loadavg()[0]!, 2);
          results[name] = {
            ...((await run(ctx)) as object),
            measuredAt: date,
            mode: args.quick ? 'quick' : 'full',
            seconds: round((Date.now() - t0) / 1000, 1),
            loadAverage1m,
            build: args.compiled ? 'compiled' : 'ts-node',
          };
        } catch (err) {
          log(`${name} failed: ${(err as Error).message}`);
          results[name] = { error: (err as Error).message, measuredAt: date, mode: args.quick ? 'quick' : 'full' };
        }
      }
    }
    if (args.withTests) {
      await stopAll(); // the tests want the machine (and start their own server)
      log('p5: npm test (minutes)…');
      const r = await p5(root, logDir);
      results.p5 = { ...r, measuredAt: date };
      log(`p5: ${r.testSeconds} s, ${r.passed ? 'passed' : `FAILED (log: ${r.log})`}`);
    }
  } finally {
    await stopAll();
  }

  const latestFile = path.join(resultsDir, 'latest.json');
  const previous = fs.existsSync(latestFile)
    ? (JSON.parse(fs.readFileSync(latestFile, 'utf8')) as Record<string, unknown>)
    : {};
  const latest: Record<string, unknown> = {
    date,
    machine: {
      nproc: os.availableParallelism(),
      cpu: os.cpus()[0]?.model ?? 'unknown',
      memoryGb: round(os.totalmem() / 1024 ** 3, 1),
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      loadAverageAtStart: loadAtStart,
    },
    mode: args.quick ? 'quick' : 'full',
    build: args.compiled ? 'compiled (dist/)' : 'ts-node',
    counts,
    // Our worker's tuning for this run (config/worker.ts), from the environment the bench was started with.
    ourWorker: {
      WORKER_MAX_CACHED_WORKFLOWS:
        process.env.WORKER_MAX_CACHED_WORKFLOWS ?? `default (${DEFAULT_MAX_CACHED_WORKFLOWS})`,
      WORKER_STICKY_QUEUE_TIMEOUT: process.env.WORKER_STICKY_QUEUE_TIMEOUT ?? 'SDK default',
    },
    goals: GOALS,
  };
  for (const s of SCENARIOS) {
    if (results[s]) latest[s] = results[s];
    else if (previous[s]) latest[s] = { ...previous[s], carried: true };
    else latest[s] = { notMeasured: true };
  }
  fs.writeFileSync(latestFile, JSON.stringify(latest, null, 2) + '\n');
  writeCharts(resultsDir, latest);
  fs.writeFileSync(path.join(resultsDir, 'latest.md'), printTable(latest));
  log(`wrote ${path.relative(root, latestFile)}, latest.md (the table), p1.svg, p2.svg, p3.svg`);
  fs.rmSync(path.join(work, 'evidence'), { recursive: true, force: true });
  if (args.profile)
    log(`CPU profiles: ${path.join(logDir, 'profiles')} (worker/, api/, skeleton-*/: one .cpuprofile per thread)`);
}

const GOALS = {
  'p1.p99Ratio': '<= 1.15',
  'p2.throughputRatio': '>= 0.85',
  'p3.workerRssMb': '< 400 (10,000 parked)',
  'p3.getP99Ms': '< 50',
  'p3.createP99Ms': '< 500',
  'p5.testSeconds': '< 300',
};

function get(o: unknown, key: string): any {
  return key.split('.').reduce((a: any, k) => (a == null ? undefined : a[k]), o);
}

/** Prints the table; returns it as Markdown (bench/results/latest.md, for docs/performance.md). */
function printTable(latest: Record<string, unknown>): string {
  const rows: [string, string, string, string, string][] = [['key', 'ours', 'skeleton', 'goal', 'measured']];
  const when = (s: string) => {
    const r = latest[s] as { measuredAt?: string; mode?: string; carried?: boolean; error?: string } | undefined;
    if (!r?.measuredAt) return 'not measured';
    return `${r.carried ? 'carried ' : ''}${r.measuredAt.slice(0, 16)}${r.mode ? ` ${r.mode}` : ''}${r.error ? ' ERROR' : ''}`;
  };
  const add = (key: string, ours: unknown, sk: unknown) =>
    rows.push([key, fmt(ours), fmt(sk), (GOALS as Record<string, string>)[key] ?? '', when(key.split('.')[0]!)]);
  add('p1.p99Ratio', get(latest, 'p1.p99Ratio'), '');
  add('p1.p50Ms', get(latest, 'p1.ours.p50Ms'), get(latest, 'p1.skeleton.p50Ms'));
  add('p1.p99Ms', get(latest, 'p1.ours.p99Ms'), get(latest, 'p1.skeleton.p99Ms'));
  add('p1.maxRps', get(latest, 'p1.ours.maxRps'), get(latest, 'p1.skeleton.maxRps'));
  add('p2.throughputRatio', get(latest, 'p2.throughputRatio'), '');
  add(
    'p2.finwave.flowsPerSecond',
    get(latest, 'p2.finwave.ours.flowsPerSecond'),
    get(latest, 'p2.finwave.skeleton.flowsPerSecond'),
  );
  add(
    'p2.fourthline.flowsPerSecond',
    get(latest, 'p2.fourthline.ours.flowsPerSecond'),
    get(latest, 'p2.fourthline.skeleton.flowsPerSecond'),
  );
  add('p3.parked', get(latest, 'p3.ours.parked'), get(latest, 'p3.skeleton.parked'));
  add('p3.workerRssMb', get(latest, 'p3.workerRssMb'), get(latest, 'p3.skeletonWorkerRssMb'));
  add('p3.createP99Ms', get(latest, 'p3.createP99Ms'), get(latest, 'p3.skeletonCreateP99Ms'));
  add('p3.getP99Ms', get(latest, 'p3.getP99Ms'), get(latest, 'p3.skeletonGetP99Ms'));
  add('p5.testSeconds', get(latest, 'p5.testSeconds'), '');
  const m = latest.machine as { nproc: number; loadAverageAtStart: number[] };
  const busy = m.loadAverageAtStart[0]! > m.nproc;
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const [i, r] of rows.entries()) {
    console.log(r.map((c, j) => c.padEnd(widths[j]!)).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
  if (busy)
    console.log(
      `WARNING: load average ${m.loadAverageAtStart[0]} on ${m.nproc} cores at start: the machine was busy, these figures are not representative.`,
    );
  const md = rows.map((r) => `| ${r.join(' | ')} |`);
  md.splice(1, 0, `|${rows[0]!.map(() => '---').join('|')}|`);
  const machine = latest.machine as {
    nproc: number;
    cpu: string;
    memoryGb: number;
    node: string;
    loadAverageAtStart: number[];
  };
  md.push(
    '',
    `Machine: ${machine.nproc} cores (${machine.cpu}), ${machine.memoryGb} GB, Node ${machine.node}, load average ${machine.loadAverageAtStart[0]} at the start.`,
  );
  return md.join('\n') + '\n';
}

function fmt(v: unknown): string {
  if (v === undefined || v === null || v === '') return '';
  return typeof v === 'number' || typeof v === 'string' ? String(v) : JSON.stringify(v);
}

function writeCharts(dir: string, latest: Record<string, unknown>): void {
  const m = latest.machine as { nproc: number; node: string; memoryGb: number };
  const sub = (s: string) => {
    const r = latest[s] as { measuredAt?: string; mode?: string; loadAverage1m?: number } | undefined;
    const busy =
      r?.loadAverage1m !== undefined && r.loadAverage1m > m.nproc ? ` · UNDER LOAD (load avg ${r.loadAverage1m})` : '';
    return `${r?.measuredAt?.slice(0, 16) ?? 'not measured'} ${r?.mode ?? ''} · ${m.nproc} cores, ${m.memoryGb} GB, Node ${m.node}${busy}`;
  };
  const p1r = latest.p1 as Partial<P1Result> | undefined;
  fs.writeFileSync(
    path.join(dir, 'p1.svg'),
    chart('p1: Finwave webhook → signal accepted', sub('p1'), [
      {
        title: 'p50 latency',
        unit: `ms at ${p1r?.offeredRps ?? '?'} req/s`,
        ours: get(p1r, 'ours.p50Ms') ?? null,
        skeleton: get(p1r, 'skeleton.p50Ms') ?? null,
      },
      {
        title: 'p99 latency',
        unit: `ms at ${p1r?.offeredRps ?? '?'} req/s`,
        ours: get(p1r, 'ours.p99Ms') ?? null,
        skeleton: get(p1r, 'skeleton.p99Ms') ?? null,
        note: `ratio ${p1r?.p99Ratio ?? '?'} (goal ≤ 1.15)`,
      },
      {
        title: 'max sustained rate',
        unit: 'accepted/s',
        ours: get(p1r, 'ours.maxRps') ?? null,
        skeleton: get(p1r, 'skeleton.maxRps') ?? null,
      },
    ]),
  );
  const p2r = latest.p2 as Partial<P2Result> | undefined;
  fs.writeFileSync(
    path.join(dir, 'p2.svg'),
    chart('p2: full sandboxed flows per second', sub('p2'), [
      {
        title: 'Finwave',
        unit: 'flows/s',
        ours: get(p2r, 'finwave.ours.flowsPerSecond') ?? null,
        skeleton: get(p2r, 'finwave.skeleton.flowsPerSecond') ?? null,
        note: `ratio ${get(p2r, 'finwave.ratio') ?? '?'}`,
      },
      {
        title: 'Fourthline',
        unit: 'flows/s',
        ours: get(p2r, 'fourthline.ours.flowsPerSecond') ?? null,
        skeleton: get(p2r, 'fourthline.skeleton.flowsPerSecond') ?? null,
        note: `ratio ${get(p2r, 'fourthline.ratio') ?? '?'} (goal ≥ 0.85)`,
      },
    ]),
  );
  const p3r = latest.p3 as Partial<P3Result> | undefined;
  fs.writeFileSync(
    path.join(dir, 'p3.svg'),
    chart(`p3: ${p3r?.parked ?? '?'} Finwave flows parked on their timers`, sub('p3'), [
      {
        title: 'worker RSS after GC',
        unit: 'MB',
        ours: p3r?.workerRssMb ?? null,
        skeleton: p3r?.skeletonWorkerRssMb ?? null,
        note: 'goal < 400 at 10,000',
      },
      {
        title: 'create p99 (32 callers)',
        unit: 'ms',
        ours: p3r?.createP99Ms ?? null,
        skeleton: p3r?.skeletonCreateP99Ms ?? null,
        note: 'goal < 500',
      },
      {
        title: 'GET p99 (8 callers)',
        unit: 'ms',
        ours: p3r?.getP99Ms ?? null,
        skeleton: p3r?.skeletonGetP99Ms ?? null,
        note: 'goal < 50',
      },
    ]),
  );
}

main().catch((err) => {
  console.error(`bench failed: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
