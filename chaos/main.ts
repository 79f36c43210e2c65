/**
 * `npm run chaos`: the service as separate processes (a Temporal dev server on a SQLite file, the vendor
 * sandboxes, the API, the worker), all five vendors' flows played through the sandbox controls, while
 * the worker is killed with SIGKILL and restarted, the Temporal server restarts on its SQLite file, and
 * about 30% of vendor calls fail (issue 10 point 4; issue 12's notification clause). Then every flow is
 * checked (chaos/checks.ts) and a table per vendor is printed, ending with `N passed, M failed`.
 *
 *   npm run chaos                    >= 50 kills, 3 server restarts (about 15-25 minutes on 2 busy cores)
 *   npm run chaos -- --quick         about 10 kills, 1 server restart, 3 flows per vendor (CI)
 *   npm run chaos -- --seed 1234     replays a run's plan (flows, kill gaps, restarts, fault draws)
 *
 * Processes are started and stopped as the bench does (bench/processes.ts), each on a free loopback port.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { freePort, startDevServer, type DevServerHandle } from '../temporal-dev/dev-server';
import { ensureTemporalCli, projectRoot } from '../temporal-dev/ensure';
import { bundleWorkflows } from '../workers';
import { httpReady, ready, spawnTs, type Proc } from '../bench/processes';
import { http, sleep } from '../bench/context';
import { waitForEnd, type PlayTarget, type Scenario } from '../sandboxes/play';
import { FAULT_MIX, FULL, PROVIDERS, QUICK, faultShare, makePlan, type Mode } from './plan';
import { resilientFetch } from './resilient';
import { checkFlows, printReport, type Flow, type Outage } from './checks';

function parseArgs(argv: string[]): { mode: Mode; seed: number } {
  let mode = FULL;
  let seed = crypto.randomInt(1, 2 ** 31);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') mode = QUICK;
    else if (a === '--seed' || a.startsWith('--seed=')) {
      const v = Number(a.includes('=') ? a.slice(7) : argv[++i]);
      if (!Number.isInteger(v) || v < 0) fail('--seed takes a non-negative integer');
      seed = v;
    } else if (a === '--help' || a === '-h') {
      console.log('npm run chaos [-- --quick] [--seed N]');
      process.exit(0);
    } else fail(`unknown argument ${a} (try --help)`);
  }
  return { mode, seed };
}

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

const t0 = Date.now();
const log = (line: string) => console.log(`[chaos ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s] ${line}`);

async function main(): Promise<number> {
  const { mode, seed } = parseArgs(process.argv.slice(2));
  const plan = makePlan(seed, mode);
  const root = projectRoot();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'idv-chaos-'));
  const logDir = path.join(work, 'logs');
  fs.mkdirSync(logDir);
  const runId = crypto.randomBytes(3).toString('hex');
  log(`mode ${mode.name}, seed ${seed}, run ${runId}; logs in ${logDir}`);

  const stops: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse())
      await stop().catch((err) => console.error(`while stopping: ${(err as Error).message}`));
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => void stopAll().finally(() => process.exit(130)));

  try {
    // --- The processes ---------------------------------------------------------------------------
    const cliPath = await ensureTemporalCli();
    const temporalPort = await freePort();
    const dbFile = path.join(work, 'temporal.sqlite');
    const serverLog = fs.openSync(path.join(logDir, 'temporal.log'), 'a');
    const startServer = () =>
      startDevServer({
        cliPath,
        port: temporalPort,
        headless: true,
        dbFile,
        logLevel: 'error',
        log: (l) => fs.writeSync(serverLog, l + '\n'),
      });
    let server: DevServerHandle = await startServer();
    stops.push(() => server.stop());
    log(`Temporal dev server ${server.address} on ${dbFile} (pid ${server.pid})`);

    const [apiPort, sandboxPort] = [await freePort(), await freePort()];
    // One key per flow slot (the API limits requests per key; a real integrator polls far less), one tenant.
    const keys = Array.from(
      { length: mode.concurrency + 1 },
      (_, i) => `chaos${i}:${crypto.randomBytes(18).toString('base64url')}`,
    );
    const bundleFile = path.join(work, 'workflows.js');
    log('bundling the workflow code once (the worker loads it at each restart)…');
    fs.writeFileSync(bundleFile, (await bundleWorkflows()).code);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TEMPORAL_ADDRESS: server.address,
      TEMPORAL_NAMESPACE: 'default',
      APP_ENV: 'development',
      LOG_LEVEL: 'warn',
      API_HOST: '127.0.0.1',
      API_PORT: String(apiPort),
      API_KEYS: keys.join(','),
      PUBLIC_BASE_URL: `http://127.0.0.1:${apiPort}`,
      WEBHOOK_SECRET: crypto.randomBytes(24).toString('base64url'),
      SANDBOX_HOST: '127.0.0.1',
      SANDBOX_PORT: String(sandboxPort),
      EVIDENCE_DIR: path.join(work, 'evidence'),
      AUDIT_DIR: path.join(work, 'audit'),
      TASK_QUEUE_PREFIX: `chaos-${runId}`,
      MIN_POLL_INTERVAL_MS: '1000',
      WORKFLOW_BUNDLE_FILE: bundleFile,
    };
    const start = (name: string, script: string, ipc = false): Proc =>
      spawnTs({ name, script, root, env, logDir, ipc });
    const sandboxes = start('sandboxes', 'chaos/sandboxes.ts');
    stops.push(() => sandboxes.stop());
    const sandboxUrl = `http://127.0.0.1:${sandboxPort}`;
    await httpReady(sandboxes, `${sandboxUrl}/`);

    // The worker: killed and restarted; `workerUp` is false from a kill (or a crash) until it polls again.
    let worker!: Proc;
    let workerUp = false;
    let workerStarts = 0;
    let crashes = 0;
    const startWorker = async () => {
      workerStarts += 1;
      worker = start(`worker-${workerStarts}`, 'bench/our-worker.ts', true);
      const p = worker;
      await ready(p);
      workerUp = true;
      p.child.once('exit', (_code, signal) => {
        if (signal !== 'SIGKILL' && !stopping) {
          crashes += 1;
          workerUp = false;
          log(`worker ${p.pid} exited by itself (${signal ?? _code}): restarting`);
          void startWorker();
        }
      });
    };
    await startWorker();
    stops.push(async () => {
      stopping = true;
      await worker.stop();
    });
    const api = start('api', 'client/main.ts');
    stops.push(() => api.stop());
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    await httpReady(api, `${apiUrl}/healthz`);
    log(`started: sandboxes ${sandboxes.pid}, worker ${worker.pid}, api ${api.pid}`);
    const connection = await Connection.connect({ address: server.address });
    stops.push(() => connection.close());
    const client = new Client({ connection, namespace: 'default' });

    // --- Faults and the notification endpoint ---------------------------------------------------
    const sandbox = http(sandboxUrl);
    for (const p of PROVIDERS) {
      for (const [i, f] of FAULT_MIX.entries()) {
        const r = await sandbox('POST', `/${p}/_sandbox/faults`, { ...f, times: 1000, seed: plan.faultSeeds[p][i] });
        if (r.status !== 201) throw new Error(`fault at ${p}: ${r.status} ${JSON.stringify(r.body)}`);
      }
    }
    log(
      `vendor faults: ${FAULT_MIX.map((f) => `${f.mode}${'delayMs' in f ? ` ${f.delayMs / 1000}s` : ''} ${f.probability * 100}%`).join(', ')} = ${(faultShare() * 100).toFixed(0)}% of vendor calls`,
    );
    const admin = resilientFetch(apiUrl, 120_000);
    const adminKey = keys[0]!.split(':')[1]!;
    const inbox = `chaos-${runId}`;
    const ep = (await (
      await admin.fetch(`${apiUrl}/v1/webhook-endpoints`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ url: `${sandboxUrl}/receiver/${inbox}`, eventTypes: [], description: 'chaos suite' }),
      })
    ).json()) as { id: string; secret: string };
    if (!ep.secret) throw new Error(`webhook endpoint not created: ${JSON.stringify(ep)}`);
    await sandbox('PUT', `/receiver/${inbox}/_secret`, { secrets: [ep.secret] });
    log(`notification endpoint ${ep.id} -> ${sandboxUrl}/receiver/${inbox}`);

    // --- Server restarts and worker kills (one loop), flows (another) ---------------------------
    const outages: Outage[] = [];
    const kills: { at: number; readyAt: number; pid: number }[] = [];
    const restarts: { at: number; upAt: number }[] = [];
    let killsDone = false;
    const killLoop = (async () => {
      for (let k = 0; k < mode.kills; k++) {
        await sleep(plan.killGaps[k]! * 1000);
        if (!workerUp)
          await new Promise<void>((r) => {
            const i = setInterval(() => workerUp && (clearInterval(i), r()), 200);
          });
        const victim = worker;
        const at = Date.now();
        workerUp = false;
        victim.child.kill('SIGKILL');
        await new Promise((r) =>
          victim.child.exitCode !== null || victim.child.signalCode !== null ? r(null) : victim.child.once('exit', r),
        );
        if (plan.restartAfterKill.has(k)) {
          // The server goes down with no worker polling, and comes back on its SQLite file.
          const downAt = Date.now();
          await server.stop();
          server = await startServer();
          restarts.push({ at: downAt, upAt: Date.now() });
          log(
            `Temporal server restarted on its SQLite file in ${((Date.now() - downAt) / 1000).toFixed(1)} s (pid ${server.pid})`,
          );
        }
        await startWorker();
        kills.push({ at, readyAt: Date.now(), pid: victim.pid });
        outages.push({ from: at, to: Date.now() });
        log(
          `kill ${k + 1}/${mode.kills}: worker ${victim.pid} SIGKILLed, new worker ${worker.pid} polling after ${((Date.now() - at) / 1000).toFixed(1)} s`,
        );
      }
      killsDone = true;
    })();
    const flows: Flow[] = [];
    const fetcher = resilientFetch(apiUrl, 180_000);
    const deadline = t0 + mode.maxSeconds * 1000;
    let next = 0;
    const minFlows = mode.flowsPerVendor * PROVIDERS.length;
    const runFlow = async (scenario: Scenario, n: number, key: string) => {
      // How long the scripted user waits for a step's turn: a step waits behind background vendor calls that
      // retry through the injected faults (at most 30 s apart); 3 minutes was shorter than a rare run of them.
      const target: PlayTarget = {
        api: apiUrl,
        sandbox: sandboxUrl,
        key,
        fetch: fetcher.fetch,
        stepTimeoutMs: 300_000,
      };
      const reference = `chaos-${runId}-${n}-${scenario.name}`;
      const flow: Flow = {
        n,
        scenario,
        reference,
        id: `${scenario.provider}:${reference}`,
        startedAt: Date.now(),
        steps: [],
      };
      flows.push(flow);
      try {
        flow.id = await scenario.play(target, reference, (line) => flow.steps.push(line));
        const end = await waitForEnd(target, flow.id, Math.max(30_000, deadline - Date.now()));
        flow.final = { status: end.status, outcome: end.outcome };
      } catch (err) {
        flow.error = (err as Error).message;
      }
      flow.endedAt = Date.now();
    };
    const slots = Array.from({ length: mode.concurrency }, async (_, slot) => {
      const key = keys[slot + 1]!.split(':')[1]!;
      while (Date.now() < deadline - 60_000 && (next < minFlows || !killsDone) && next < plan.flows.length) {
        const n = next++;
        await runFlow(plan.flows[n]!, n, key);
      }
    });
    await Promise.all(slots);
    log(`${flows.length} flows played; waiting for the kills to finish`);
    await killLoop;

    // --- Checks ------------------------------------------------------------------------------------
    const calls = (await sandbox('GET', '/_chaos/calls')).body as Record<string, number>;
    const report = await checkFlows({
      flows,
      client,
      api: (p) => admin.fetch(`${apiUrl}${p}`, { headers: { authorization: `Bearer ${adminKey}` } }),
      sandbox,
      inbox,
      outages,
      kills,
      apiErrors: [...fetcher.errors, ...admin.errors],
      calls,
      log,
    });
    printReport(report, {
      seed,
      mode,
      kills: kills.length,
      serverRestarts: restarts.length,
      crashes,
      seconds: (Date.now() - t0) / 1000,
      calls,
    });
    return report.failed > 0 || kills.length < mode.kills || restarts.length < mode.serverRestarts ? 1 : 0;
  } finally {
    stopping = true;
    await stopAll();
    fs.rmSync(path.join(work, 'evidence'), { recursive: true, force: true });
  }
}

let stopping = false;
main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`chaos failed: ${(err as Error).stack ?? err}`);
    process.exit(1);
  },
);
