/**
 * `npm start` as a user runs it (the real process tree: npm, node, the Temporal dev server), on free ports and a
 * temp data folder:
 * - SIGTERM (and SIGINT) to `npm start` stops everything it started within 10 s: every port it held is free;
 * - the sandboxes' cases survive a restart (their state is saved into the data folder);
 * - logs: one JSON line per SDK event (no multi-line worker state objects), no line per /readyz.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../temporal-dev/dev-server';
import { ensureTemporalCli } from '../temporal-dev/ensure';

const root = path.resolve(__dirname, '..');
let dir: string;
let env: NodeJS.ProcessEnv;
let ports: Record<string, number>;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'idv-start-'));
  ports = {
    temporal: await freePort(),
    ui: await freePort(),
    api: await freePort(),
    sandbox: await freePort(),
    metrics: await freePort(),
  };
  env = {
    ...process.env,
    TEMPORAL_CLI: await ensureTemporalCli(),
    TEMPORAL_DEV_PORT: String(ports.temporal),
    TEMPORAL_DEV_UI_PORT: String(ports.ui),
    TEMPORAL_ADDRESS: `127.0.0.1:${ports.temporal}`,
    TEMPORAL_DEV_DB: path.join(dir, 'temporal.db'),
    API_PORT: String(ports.api),
    SANDBOX_PORT: String(ports.sandbox),
    EVIDENCE_DIR: path.join(dir, 'evidence'),
    AUDIT_DIR: path.join(dir, 'audit'),
    SANDBOX_STATE_FILE: path.join(dir, 'sandboxes', 'state.json'),
    LOG_LEVEL: 'info',
    // The embedded worker's Prometheus endpoint, as `npm run worker` serves it.
    WORKER_METRICS_PORT: String(ports.metrics),
  };
  delete env.TEMPORAL_TEST_ADDRESS;
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Started {
  child: ChildProcess;
  out: string[];
  exited: Promise<number | null>;
}

async function start(): Promise<Started> {
  const child = spawn('npm', ['start'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: string[] = [];
  let buf = '';
  const onData = (c: Buffer) => {
    buf += c.toString();
    const lines = buf.split('\n');
    buf = lines.pop()!;
    out.push(...lines);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 150_000;
  while (!out.some((l) => l.startsWith('Ready.'))) {
    if (child.exitCode !== null) throw new Error(`npm start exited: ${out.slice(-20).join('\n')}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`npm start not ready: ${out.slice(-20).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { child, out, exited };
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function stopWithin10s(s: Started, signal: NodeJS.Signals): Promise<number> {
  const t0 = Date.now();
  s.child.kill(signal);
  // npm answers a signal by passing it on to the script and exiting; what counts is that every process it started
  // (node, the Temporal dev server) is gone within 10 s: no port they held is served any more.
  const up = async () => {
    const still: string[] = [];
    for (const [name, port] of Object.entries(ports)) if (await listening(port)) still.push(name);
    return still;
  };
  let still = await up();
  while ((s.child.exitCode === null && s.child.signalCode === null) || still.length > 0) {
    if (Date.now() - t0 > 10_000) break;
    await new Promise((r) => setTimeout(r, 100));
    still = await up();
  }
  const elapsed = Date.now() - t0;
  expect({
    signal,
    npmExited: s.child.exitCode !== null || s.child.signalCode !== null,
    stillListening: still,
  }).toEqual({ signal, npmExited: true, stillListening: [] });
  expect(elapsed).toBeLessThan(10_000);
  await new Promise((r) => setTimeout(r, 500)); // the last log lines
  expect(s.out.filter((l) => l.includes('while stopping') || l.includes('stop deadline passed'))).toEqual([]);
  return elapsed;
}

const finwave = (p: string, init?: RequestInit) =>
  fetch(`http://127.0.0.1:${ports.sandbox}/finwave${p}`, {
    ...init,
    headers: {
      'content-type': 'application/json',
      'gestok-client-token': 'sandbox-finwave-client-token',
      ...(init?.headers ?? {}),
    },
  });

test('SIGTERM stops everything within 10 s; a restart keeps the sandbox cases; SIGINT too; quiet JSON logs', async () => {
  const first = await start();
  for (const name of ['api', 'sandbox', 'temporal', 'ui', 'metrics'])
    expect({ name, up: await listening(ports[name]!) }).toEqual({ name, up: true });
  const metrics = await (await fetch(`http://127.0.0.1:${ports.metrics}/metrics`)).text();
  expect(metrics).toContain('temporal_worker_task_slots_available');

  // An in-flight vendor case, as our worker would have opened it.
  const created = await finwave('/management/integrations', {
    method: 'POST',
    body: JSON.stringify({
      customId: 'hygiene-1',
      webhook: `http://127.0.0.1:${ports.api}/webhooks/finwave/x`,
      lang: 'ENG',
    }),
  });
  expect(created.status).toBe(201);
  const { onboardingId } = (await created.json()) as { onboardingId: string };

  // Probes leave no log line.
  for (let i = 0; i < 3; i++) expect((await fetch(`http://127.0.0.1:${ports.api}/readyz`)).status).toBe(200);
  await new Promise((r) => setTimeout(r, 300));

  await stopWithin10s(first, 'SIGTERM');
  expect(first.out.filter((l) => l.includes('readyz'))).toEqual([]);
  // The SDK's worker state changes: JSON lines, not multi-line objects.
  expect(first.out.filter((l) => /^\s+(state|taskQueue|sdkComponent|namespace):/.test(l))).toEqual([]);
  expect(
    first.out
      .filter((l) => l.includes('Worker state changed'))
      .every((l) => JSON.parse(l).msg === 'Worker state changed'),
  ).toBe(true);
  expect(first.out.filter((l) => l.includes('"msg":"Worker state changed"')).length).toBeGreaterThan(0);

  const second = await start();
  expect(second.out.some((l) => /Vendor sandboxes: .*[1-9]\d* record\(s\) restored/.test(l))).toBe(true);
  const after = await finwave(`/_sandbox/onboardings/${onboardingId}`);
  expect(after.status).toBe(200);
  expect(await after.json()).toMatchObject({ onboardingId, customId: 'hygiene-1', status: 'CREATED' });
  await stopWithin10s(second, 'SIGINT');
}, 400_000);
