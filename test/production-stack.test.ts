/**
 * `npm run stack:production` from the compiled output: the Temporal server on PostgreSQL (SQL visibility, our
 * search attributes), its Web UI server, S3 evidence store (moto), PostgreSQL audit log, two workers, two APIs,
 * the sandboxes. A Finwave flow and a Fourthline flow complete through it; the Web UI answers, lists them from
 * this server and points at our codec; then scale-out: one worker is killed for good and one API replica
 * mid-flow, the flows complete on the survivors, and ID360 logged in at most once per worker process.
 * Ports: free ones, passed by environment (never the defaults). The Temporal server and the UI server are built
 * from the Go module proxy on first use (.ci/run builds them before the tests).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../temporal-dev/dev-server';
import { ensureTemporalCli } from '../temporal-dev/ensure';

const root = path.resolve(__dirname, '..');
const K = { authorization: 'Bearer dev-api-key', 'content-type': 'application/json' };
let stack: ChildProcess;
const out: string[] = [];
let ready: {
  pids: Record<string, number>;
  apis: number[];
  sandboxes: number;
  ui: string;
  codec: string;
  startMs: number;
  stagesMs: Record<string, number>;
  rssKb: Record<string, number>;
};
let dir: string;
// A cold Go build of the Temporal server took 13 minutes here: allow for it when the binaries are not there yet.
const built = ['.bin-server', '.bin-ui'].every((d) => fs.existsSync(path.join(root, 'temporal-dev', d, '.version')));
const START_TIMEOUT_S = 540;

/**
 * `size` consecutive free ports from [20000, 32767]: below Linux's ephemeral range (32768+), and the Temporal
 * server stores its membership ports in a PostgreSQL smallint (a port above 32767 kills it at start).
 */
async function portBlock(size: number): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const base = 20000 + Math.floor(Math.random() * (32767 - 20000 - size));
    const ok = await Promise.all(Array.from({ length: size }, (_, k) => freePortIs(base + k)));
    if (ok.every(Boolean)) return base;
  }
  throw new Error('no free port block');
}
function freePortIs(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

beforeAll(
  async () => {
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
      STACK_UI_PORT: String(await freePort()),
      STACK_API_PORT: String(await portBlock(2)),
      STACK_START_TIMEOUT_S: String(START_TIMEOUT_S),
    };
    stack = spawn(process.execPath, [path.join(root, 'dist', 'temporal-dev', 'production-stack.js')], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buf = '';
    const onData = (c: Buffer) => {
      buf += c.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      out.push(...lines);
    };
    stack.stdout!.on('data', onData);
    stack.stderr!.on('data', onData);
    // The stack has its own start deadline (STACK_START_TIMEOUT_S, after its binaries are there) and says which
    // part did not come up: wait for `ready` or for its `start failed`.
    for (;;) {
      const line = out.find((l) => l.includes('"msg":"ready"'));
      if (line) {
        ready = JSON.parse(line);
        break;
      }
      const failed = out.find((l) => l.includes('"msg":"start failed"'));
      if (failed || stack.exitCode !== null) {
        const why = failed ? JSON.parse(failed).error : `the stack exited (${stack.exitCode})`;
        throw new Error(
          `stack did not start: ${why}\nits last lines:\n${out
            .filter((l) => !l.includes('"process":"temporal"'))
            .slice(-15)
            .join('\n')}`,
        );
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    process.stderr.write(
      `stack ready in ${ready.startMs} ms (stages, ms since start: ${JSON.stringify(ready.stagesMs)}); idle RSS (kB): ${JSON.stringify(ready.rssKb)}\n`,
    );
  },
  (built ? START_TIMEOUT_S + 300 : 1800 + START_TIMEOUT_S) * 1000,
);

afterAll(async () => {
  if (stack && stack.exitCode === null) {
    const t0 = Date.now();
    const exited = new Promise((r) => stack.once('exit', r));
    stack.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000).unref())]);
    process.stderr.write(`stack stopped in ${Date.now() - t0} ms\n`);
    if (stack.exitCode === null) stack.kill('SIGKILL');
  }
  stack?.stdout?.destroy();
  stack?.stderr?.destroy();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}, 30_000);

const api = async (n: 0 | 1, method: string, p: string, body?: unknown) => {
  const headers = body === undefined ? { authorization: K.authorization } : K; // no JSON content type without a body
  const res = await fetch(`http://127.0.0.1:${ready.apis[n]}${p}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as any };
};
const sandbox = (p: string, body?: unknown) =>
  fetch(`http://127.0.0.1:${ready.sandboxes}${p}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

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

/** The Finwave onboarding link: in the 201 answer, or (202, created but the workflow answered late) read until there. */
async function createdUrl(created: { status: number; body: any }, readOn: 0 | 1): Promise<string> {
  expect([201, 202]).toContain(created.status);
  if (created.status === 201) return created.body.nextAction.url;
  return until(
    `${created.body.id} onboarding link`,
    async () => (await api(readOn, 'GET', `/v1/verifications/${created.body.id}`)).body?.nextAction?.url as string,
  );
}

/**
 * `completeWithinMs`: an activity the killed worker had started is retried only when its start-to-close timeout
 * (Finwave: 2 minutes, no heartbeat) has passed, so the scale-out flow may need longer than that.
 */
async function finwaveFlow(
  ref: string,
  startOn: 0 | 1,
  readOn: 0 | 1,
  beforeFinish?: () => Promise<void>,
  completeWithinMs = 90_000,
) {
  const created = await api(startOn, 'POST', '/v1/verifications', {
    provider: 'finwave',
    reference: ref,
    options: { acceptations: [{ mandatory: true, text: 'I accept' }] },
  });
  const url = await createdUrl(created, readOn);
  const onboardingId = /onboarding\/([^/?]+)/.exec(url)![1];
  await beforeFinish?.();
  expect((await sandbox(`/finwave/_sandbox/onboardings/${onboardingId}/finish`, { scenario: 'approved' })).status).toBe(
    200,
  );
  return until(
    `${created.body.id} completed`,
    async () => {
      const v = await api(readOn, 'GET', `/v1/verifications/${created.body.id}`);
      return v.body?.status === 'completed' && v.body;
    },
    completeWithinMs,
  );
}

async function fourthlineFlow(ref: string, n: 0 | 1, midFlow?: () => Promise<0 | 1>) {
  const created = await api(n, 'POST', '/v1/verifications', { provider: 'fourthline', reference: ref });
  expect([201, 202]).toContain(created.status); // 202: created, the workflow has not answered within the API's deadline
  const id = created.body.id as string;
  await act(n, id, 'identity', {
    person: { firstName: 'Marie', lastName: 'Dupont', birthDate: '1990-04-01' },
    address: { street: '1 rue de la Paix', postalCode: '75002', city: 'Paris', countryCode: 'FRA' },
    emailAndPhone: { email: 'marie+completed@example.com', phone: '+33612345678' },
    files: [
      {
        type: 'id_document_front',
        contentType: 'image/jpeg',
        contentBase64: Buffer.from('ffd8ffe000104a464946ffd9', 'hex').toString('base64'),
      },
    ],
  });
  const m = midFlow ? await midFlow() : n;
  await act(m, id, 'documents', {
    documents: [{ name: 'contract.pdf', contentBase64: Buffer.from('%PDF-1.4\n%%EOF\n').toString('base64') }],
  });
  await act(m, id, 'mobile-number', { mobileNumber: '+33612345678' });
  await act(m, id, 'signature-details');
  await act(m, id, 'approve', {});
  const current = await until(
    'signature',
    async () => (await api(m, 'GET', `/v1/verifications/${id}/signature`)).body?.current?.signatureId as string,
  );
  const sms = await until('sms', async () => {
    const r = await sandbox(`/fourthline/_sandbox/signatures/${current}/sms`);
    return r.status === 200 && ((await r.json()) as { passcode: string }).passcode;
  });
  await act(m, id, 'confirm', { passcode: sms });
  return until(
    `${id} completed`,
    async () => {
      const v = await api(m, 'GET', `/v1/verifications/${id}`);
      return v.body?.status === 'completed' && v.body;
    },
    90_000,
  );
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

/** An ID360 flow in API mode (consent without biometry, a one-page ID, finalize), to the verdict by callback. */
async function id360Flow(ref: string, n: 0 | 1) {
  const created = await api(n, 'POST', '/v1/verifications', { provider: 'id360', reference: ref });
  expect([201, 202]).toContain(created.status);
  const id = created.body.id as string;
  const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), crypto.randomBytes(300)]).toString('base64');
  await act(n, id, 'consent', { acceptedCgu: true, acceptedBiometry: false });
  await act(n, id, 'upload-document-page', { page: 0, totalPages: 1, contentType: 'image/png', data: png });
  await act(n, id, 'finalize', {});
  return until(
    `${id} completed`,
    async () => {
      const v = await api(0, 'GET', `/v1/verifications/${id}`);
      return v.body?.status === 'completed' && v.body;
    },
    120_000,
  );
}

test("the Web UI server answers, lists this server's workflows and points at our codec", async () => {
  const ui = `http://127.0.0.1:${new URL(ready.ui).port}`;
  expect((await fetch(`${ui}/healthz`)).status).toBe(200);
  const page = await fetch(`${ui}/`);
  expect(page.status).toBe(200);
  expect(await page.text()).toMatch(/<html/i);
  const settings = (await (await fetch(`${ui}/api/v1/settings`)).json()) as {
    Codec: { Endpoint: string };
    DefaultNamespace: string;
  };
  expect(settings).toMatchObject({ Codec: { Endpoint: ready.codec }, DefaultNamespace: 'default' });
  // Through the UI server's API: the namespace `default` of this Temporal server, with a workflow of the first test.
  const list = await until('workflows via the UI server', async () => {
    const r = await fetch(
      `${ui}/api/v1/namespaces/default/workflows?query=${encodeURIComponent('VerificationProvider = "finwave"')}`,
    );
    const body = (await r.json()) as { executions?: { execution: { workflowId: string } }[] };
    return r.status === 200 && body.executions?.some((e) => e.execution.workflowId.includes(`stack-${run}`))
      ? body
      : null;
  });
  expect(list.executions!.length).toBeGreaterThanOrEqual(1);
  // The browser calls our codec from the UI's origin: the API allows exactly that origin (CORS preflight).
  const preflight = await fetch(`${ready.codec.replace('localhost', '127.0.0.1')}/decode`, {
    method: 'OPTIONS',
    headers: {
      origin: ready.ui,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type',
    },
  });
  expect(preflight.headers.get('access-control-allow-origin')).toBe(ready.ui);
}, 120_000);

test('scale-out: one worker killed for good and one API replica mid-flow; flows complete on the survivors; one ID360 session per worker process', async () => {
  expect((await sandbox('/id360/_sandbox/stats')).status).toBe(200);
  const killed: string[] = [];
  const kill = (name: string) => {
    process.kill(ready.pids[name]!, 'SIGKILL');
    killed.push(name);
  };
  // ID360 flows on both workers before the kill (four at once: the two workers' pollers share them).
  const before = await Promise.all([0, 1, 2, 3].map((i) => id360Flow(`scale-${run}-before-${i}`, (i % 2) as 0 | 1)));
  const [fw, fl, ...after] = await Promise.all([
    // Started on api-2; before the applicant finishes, worker-1 dies; read on api-1.
    finwaveFlow(`scale-${run}`, 1, 0, async () => kill('worker-1'), 200_000),
    // Started on api-2, which dies after the first step: the rest goes through api-1.
    fourthlineFlow(`scale-${run}`, 1, async () => {
      kill('api-2');
      return 0;
    }),
    ...[0, 1].map((i) => id360Flow(`scale-${run}-after-${i}`, 0)),
  ]);
  expect(killed.sort()).toEqual(['api-2', 'worker-1']);
  expect(fw).toMatchObject({ status: 'completed', outcome: 'approved' });
  expect(fl).toMatchObject({ status: 'completed' });
  for (const v of [...before, ...after]) expect(v).toMatchObject({ status: 'completed', outcome: 'approved' });
  expect(out.some((l) => l.includes('"process exited"') && l.includes('worker-1'))).toBe(true);
  // Six ID360 flows (dozens of authenticated calls) on two worker processes: each logged in once at most (its
  // session outlives activities; a token lives 15 minutes, far longer than this test), no 401 met.
  const stats = (await (await sandbox('/id360/_sandbox/stats')).json()) as {
    logins: number;
    unauthorized: number;
    total: number;
  };
  expect(stats.total).toBeGreaterThan(6);
  expect(stats.logins).toBeGreaterThanOrEqual(1);
  expect(stats.logins).toBeLessThanOrEqual(2);
  expect(stats.unauthorized).toBe(0);
}, 400_000);
