/**
 * `npm run stack:production` from the compiled output: the Temporal server on PostgreSQL (SQL visibility, our
 * search attributes), S3 evidence store (moto), PostgreSQL audit log, two workers, two APIs, the sandboxes.
 * A Finwave flow and a Fourthline flow complete through it; then scale-out: one worker is killed for good and
 * one API replica mid-flow, and a flow started on that replica completes on the survivors.
 * Ports: free ones, passed by environment (never the defaults).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../temporal-dev/dev-server';
import { ensureTemporalCli } from '../temporal-dev/ensure';

const root = path.resolve(__dirname, '..');
// Opt-in (`PRODUCTION_STACK_TEST=1 npx jest test/production-stack.test.ts`): it builds the Temporal server
// from the Go module proxy (minutes on a cold cache) and starts eight processes; not yet steady enough on a
// loaded 2-core machine to gate every CI run.
const enabled = process.env.PRODUCTION_STACK_TEST === '1';
const maybe = enabled ? describe : describe.skip;
const K = { authorization: 'Bearer dev-api-key', 'content-type': 'application/json' };
let stack: ChildProcess;
let out: string[] = [];
let ready: { pids: Record<string, number>; apis: number[]; sandboxes: number; startMs: number; rssKb: Record<string, number> };
let dir: string;

async function portBlock(size: number): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const base = 20000 + Math.floor(Math.random() * 30000);
    const ok = await Promise.all(Array.from({ length: size }, (_, k) => freePortIs(base + k)));
    if (ok.every(Boolean)) return base;
  }
  throw new Error('no free port block');
}
function freePortIs(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = require('node:net').createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

maybe('npm run stack:production', () => {
beforeAll(async () => {
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'idv-stack-'));
  const env = {
    ...process.env,
    TEMPORAL_CLI: await ensureTemporalCli(),
    STACK_DIR: dir,
    STACK_PG_PORT: String(await freePort()),
    STACK_TEMPORAL_PORT: String(await portBlock(10)),
    STACK_S3_PORT: String(await freePort()),
    STACK_SANDBOX_PORT: String(await freePort()),
    STACK_API_PORT: String(await portBlock(2)),
  };
  stack = spawn(process.execPath, [path.join(root, 'dist', 'temporal-dev', 'production-stack.js')], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let buf = '';
  const onData = (c: Buffer) => {
    buf += c.toString();
    const lines = buf.split('\n');
    buf = lines.pop()!;
    out.push(...lines);
  };
  stack.stdout!.on('data', onData);
  stack.stderr!.on('data', onData);
  const deadline = Date.now() + 330_000;
  for (;;) {
    const line = out.find((l) => l.includes('"msg":"ready"'));
    if (line) {
      ready = JSON.parse(line);
      break;
    }
    if (stack.exitCode !== null || Date.now() > deadline) throw new Error(`stack did not start: ${out.filter((l) => !l.includes('"process":"temporal"')).slice(-15).join('\n')}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  process.stderr.write(`stack ready in ${ready.startMs} ms; idle RSS (kB): ${JSON.stringify(ready.rssKb)}\n`);
}, 480_000);

afterAll(async () => {
  if (stack && stack.exitCode === null) {
    const t0 = Date.now();
    const exited = new Promise((r) => stack.once('exit', r));
    stack.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    process.stderr.write(`stack stopped in ${Date.now() - t0} ms\n`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
}, 30_000);

const api = async (n: 0 | 1, method: string, p: string, body?: unknown) => {
  const headers = body === undefined ? { authorization: K.authorization } : K; // no JSON content type without a body
  const res = await fetch(`http://127.0.0.1:${ready.apis[n]}${p}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: (await res.json().catch(() => null)) as any };
};
const sandbox = (p: string, body?: unknown) =>
  fetch(`http://127.0.0.1:${ready.sandboxes}${p}`, { method: body === undefined ? 'GET' : 'POST', headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    const v = await fn().catch((e) => ((last = e), null));
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not after ${ms / 1000} s (${String(last)})`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** An action, retried while it is out of turn (409: the workflow has not reached that step yet). */
async function act(n: 0 | 1, id: string, action: string, body?: unknown) {
  return until(`${id} ${action}`, async () => {
    const r = await api(n, 'POST', `/v1/verifications/${id}/actions/${action}`, body);
    if (r.status === 409) return null;
    expect({ action, status: r.status, body: r.body }).toEqual({ action, status: 200, body: expect.anything() });
    return r;
  });
}

/**
 * `completeWithinMs`: an activity the killed worker had started is retried only when its start-to-close timeout
 * (Finwave: 2 minutes, no heartbeat) has passed, so the scale-out flow may need longer than that.
 */
async function finwaveFlow(ref: string, startOn: 0 | 1, readOn: 0 | 1, beforeFinish?: () => Promise<void>, completeWithinMs = 90_000) {
  const created = await api(startOn, 'POST', '/v1/verifications', { provider: 'finwave', reference: ref, options: { acceptations: [{ mandatory: true, text: 'I accept' }] } });
  expect(created.status).toBe(201);
  const onboardingId = /onboarding\/([^/?]+)/.exec(created.body.nextAction.url)![1];
  await beforeFinish?.();
  expect((await sandbox(`/finwave/_sandbox/onboardings/${onboardingId}/finish`, { scenario: 'approved' })).status).toBe(200);
  return until(`${created.body.id} completed`, async () => {
    const v = await api(readOn, 'GET', `/v1/verifications/${created.body.id}`);
    return v.body?.status === 'completed' && v.body;
  }, completeWithinMs);
}

async function fourthlineFlow(ref: string, n: 0 | 1, midFlow?: () => Promise<0 | 1>) {
  const created = await api(n, 'POST', '/v1/verifications', { provider: 'fourthline', reference: ref });
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  await act(n, id, 'identity', {
    person: { firstName: 'Marie', lastName: 'Dupont', birthDate: '1990-04-01' },
    address: { street: '1 rue de la Paix', postalCode: '75002', city: 'Paris', countryCode: 'FRA' },
    emailAndPhone: { email: 'marie+completed@example.com', phone: '+33612345678' },
    files: [{ type: 'id_document_front', contentType: 'image/jpeg', contentBase64: Buffer.from('ffd8ffe000104a464946ffd9', 'hex').toString('base64') }],
  });
  const m = midFlow ? await midFlow() : n;
  await act(m, id, 'documents', { documents: [{ name: 'contract.pdf', contentBase64: Buffer.from('%PDF-1.4\n%%EOF\n').toString('base64') }] });
  await act(m, id, 'mobile-number', { mobileNumber: '+33612345678' });
  await act(m, id, 'signature-details');
  await act(m, id, 'approve', {});
  const current = await until('signature', async () => (await api(m, 'GET', `/v1/verifications/${id}/signature`)).body?.current?.signatureId as string);
  const sms = await until('sms', async () => {
    const r = await sandbox(`/fourthline/_sandbox/signatures/${current}/sms`);
    return r.status === 200 && ((await r.json()) as { passcode: string }).passcode;
  });
  await act(m, id, 'confirm', { passcode: sms });
  return until(`${id} completed`, async () => {
    const v = await api(m, 'GET', `/v1/verifications/${id}`);
    return v.body?.status === 'completed' && v.body;
  }, 90_000);
}

const run = Date.now().toString(36);

test('a Finwave and a Fourthline flow complete through the production stack (started on one API, read on the other)', async () => {
  const [fw, fl] = await Promise.all([finwaveFlow(`stack-${run}`, 0, 1), fourthlineFlow(`stack-${run}`, 1)]);
  expect(fw).toMatchObject({ status: 'completed', outcome: 'approved' });
  expect(fl).toMatchObject({ status: 'completed' });
  // The evidence went to S3 and is listed from the other replica; the audit log is the shared PostgreSQL one.
  const evidence = await api(0, 'GET', `/v1/verifications/${fw.id}/evidence`);
  expect(evidence.status).toBe(200);
  expect(JSON.stringify(evidence.body)).toContain('finwave');
}, 300_000);

test('scale-out: one worker killed for good and one API replica mid-flow; flows complete on the survivors', async () => {
  const killed: string[] = [];
  const kill = (name: string) => {
    process.kill(ready.pids[name]!, 'SIGKILL');
    killed.push(name);
  };
  const [fw, fl] = await Promise.all([
    // Started on api-2; before the applicant finishes, worker-1 dies; read on api-1.
    finwaveFlow(`scale-${run}`, 1, 0, async () => kill('worker-1'), 200_000),
    // Started on api-2, which dies after the first step: the rest goes through api-1.
    fourthlineFlow(`scale-${run}`, 1, async () => {
      kill('api-2');
      return 0;
    }),
  ]);
  expect(killed.sort()).toEqual(['api-2', 'worker-1']);
  expect(fw).toMatchObject({ status: 'completed', outcome: 'approved' });
  expect(fl).toMatchObject({ status: 'completed' });
  expect(out.some((l) => l.includes('"process exited"') && l.includes('worker-1'))).toBe(true);
}, 400_000);
});
