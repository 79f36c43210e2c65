/**
 * How many logins and keep-alive calls the shared ID360 session costs, per 1,000 vendor calls, over a long run.
 *
 *   node -r ts-node/register/transpile-only test/bench/id360-session.bench.ts [--hours 168] [--seed 7] [--peak 12]
 *
 * Not part of the jest run. It plays `--hours` of simulated time (fake clock, shared by the session and the
 * sandbox's token clock) against the real ID360 sandbox over HTTP, through the real activities (run in
 * MockActivityEnvironment) and one Id360Session, as one worker process would see it:
 * - enrollments arrive with a daily profile (`--peak` an hour in office hours, fewer in the evening, almost
 *   none at night, none on the weekend days of the run);
 * - each one: create + a data comparison (token), enrollment_info + route (api_key), then after a few minutes
 *   consent, two pages, a selfie, finalize (api_key), then a poll every 15 minutes (token) until the verdict's
 *   callback, then the report and the PDF (token), then the hold is released;
 * - 10% are abandoned before finalize: held (kept alive) until their 25-hour deadline, as the workflow does.
 * Counted by the sandbox: every vendor API call, logins, whoami.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Logger } from '@temporalio/common';
import { createId360Activities, type Id360EnrollmentRef } from '../../activities/id360';
import { Id360Session } from '../../activities/id360-session';
import { FolderEvidenceStore } from '../../activities/evidence-store';
import { SANDBOX_CREDENTIALS } from '../../sandboxes/credentials';
import { createSandboxServer } from '../../sandboxes/server';
import { freePort } from '../../temporal-dev/dev-server';
import { FakeClock } from '../helpers/id360-clock';

const MIN = 60_000;
const HOUR = 60 * MIN;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

/** mulberry32: a small seeded PRNG, so that a run can be repeated. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const quiet: Logger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

async function main() {
  const hours = arg('hours', 168);
  const seed = arg('seed', 7);
  const peak = arg('peak', 12);
  const rand = prng(seed);
  const clock = new FakeClock(Date.parse('2026-01-05T00:00:00Z')); // a Monday, midnight

  const port = await freePort();
  const server = createSandboxServer({
    publicUrl: `http://127.0.0.1:${port}`,
    id360: { now: clock.now, processingDelayMs: 0 },
  });
  server.id360.callbacksEnabled = false; // the simulated workflow learns the verdict below, as its callback would tell it
  await server.app.listen({ host: '127.0.0.1', port });
  const evidenceDir = fs.mkdtempSync(path.join(os.tmpdir(), 'id360-bench-'));
  const creds = SANDBOX_CREDENTIALS.id360;
  const baseUrl = `http://127.0.0.1:${port}/id360`;
  const session = new Id360Session({
    baseUrl,
    username: creds.username,
    password: creds.password,
    clock,
    logger: { info: () => undefined, warn: () => undefined },
  });
  const store = new FolderEvidenceStore(evidenceDir);
  const a = createId360Activities({
    config: { baseUrl, ...creds, sandbox: true },
    store,
    session,
    publicBaseUrl: 'http://127.0.0.1:9', // callbacks are off anyway
    webhookSecret: 'bench-webhook-secret-0123456789abcdef',
  });
  const mock = new MockActivityEnvironment({ attempt: 1 }, { logger: quiet });
  const env = {
    run: <P extends unknown[], R>(fn: (...args: P) => Promise<R>, ...args: P): Promise<R> => mock.run(fn, ...args),
  };
  const page = await store.put(
    'bench-page',
    'image/jpeg',
    Buffer.concat([Buffer.from('ffd8ffe0', 'hex'), crypto.randomBytes(2000)]),
  );

  // Simulated work is scheduled on the fake clock; each step's HTTP calls finish before time moves on.
  const pending = new Set<Promise<void>>();
  const at = (delayMs: number, step: () => Promise<void>) =>
    clock.setTimer(() => {
      const p = step().catch((err) => console.error(`step failed: ${(err as Error).message}`));
      pending.add(p);
      void p.finally(() => pending.delete(p));
    }, delayMs);
  const settle = async () => {
    while (pending.size) await Promise.allSettled([...pending]);
    await session.settled();
  };

  const deadlineMs = 25 * HOUR;
  let started = 0;
  let abandoned = 0;
  const enrollment = (n: number) => {
    return async () => {
      const createdAt = clock.now();
      const holdForMs = () => Math.max(0, createdAt + deadlineMs - clock.now()) + 10 * MIN;
      started++;
      const c = await env.run(a.id360CreateEnrollment, {
        workflowId: `id360:bench-${n}`,
        reference: `bench-${n}`,
        mode: 'api' as const,
        applicant: {},
        holdForMs: holdForMs(),
      });
      const e: Id360EnrollmentRef = {
        workflowId: c.workflowId,
        enrollmentId: c.enrollmentId,
        sealedApiKey: c.sealedApiKey,
      };
      await env.run(a.id360CompareData, {
        enrollmentId: e.enrollmentId,
        field: 'name' as const,
        value: 'DUPONT',
        holdForMs: holdForMs(),
      });
      const info = await env.run(a.id360GetEnrollmentInfo, { ...e, holdForMs: holdForMs() });
      await env.run(a.id360SelectRoute, { ...e, routeId: info.routes[0]!, holdForMs: holdForMs() });
      if (rand() < 0.1) {
        abandoned++;
        at(deadlineMs, () => env.run(a.id360EndEnrollment, { enrollmentId: e.enrollmentId })); // the workflow's deadline
        return;
      }
      at((2 + rand() * 10) * MIN, async () => {
        await env.run(a.id360RecordConsent, {
          ...e,
          acceptedCgu: true as const,
          acceptedBiometry: true,
          holdForMs: holdForMs(),
        });
        await env.run(a.id360UploadDocumentPage, {
          ...e,
          page: 0,
          totalPages: 2,
          document: page,
          holdForMs: holdForMs(),
        });
        await env.run(a.id360UploadDocumentPage, {
          ...e,
          page: 1,
          totalPages: 2,
          document: page,
          holdForMs: holdForMs(),
        });
        await env.run(a.id360UploadSelfie, { ...e, selfie: page, holdForMs: holdForMs() });
        await env.run(a.id360Finalize, { ...e, holdForMs: holdForMs() });
        // ID360's engines take 1 to 40 minutes; the workflow polls every 15 minutes meanwhile.
        const verdictIn = (1 + rand() * 39) * MIN;
        for (let t = 15 * MIN; t < verdictIn; t += 15 * MIN)
          at(
            t,
            async () =>
              void (await env.run(a.id360GetStatus, { enrollmentId: e.enrollmentId, holdForMs: holdForMs() })),
          );
        at(verdictIn, async () => {
          // The callback goes out once ID360 has decided (the sandbox's engines run on real timers).
          while (!['OK', 'KO'].includes(server.id360.find(e.enrollmentId)!.status))
            await new Promise((r) => setTimeout(r, 1));
          await env.run(a.id360FetchReport, { enrollmentId: e.enrollmentId, holdForMs: holdForMs() });
          await env.run(a.id360FetchPdfReport, { enrollmentId: e.enrollmentId, holdForMs: holdForMs() });
          await env.run(a.id360EndEnrollment, { enrollmentId: e.enrollmentId });
        });
      });
    };
  };

  // Arrivals: a Poisson process per hour with a daily profile (Saturday and Sunday off).
  let n = 0;
  for (let h = 0; h < hours; h++) {
    const day = Math.floor(h / 24) % 7; // 0 = Monday
    const hourOfDay = h % 24;
    const rate =
      day >= 5 ? 0 : hourOfDay >= 9 && hourOfDay < 18 ? peak : hourOfDay >= 7 && hourOfDay < 22 ? peak / 4 : peak / 40;
    for (
      let t = (-Math.log(1 - rand()) / rate) * HOUR;
      rate > 0 && t < HOUR;
      t += (-Math.log(1 - rand()) / rate) * HOUR
    ) {
      at(h * HOUR + t, enrollment(n++));
    }
  }

  const wall = Date.now();
  await clock.advance(hours * HOUR + deadlineMs + HOUR, settle);
  const s = server.id360.stats;
  const per1000 = (x: number) => ((x / s.total) * 1000).toFixed(2);
  const business = s.total - s.logins - s.whoami;
  console.log(`ID360 session over ${hours} h of simulated time (+ the last deadlines), seed ${seed}, peak ${peak}/h`);
  console.log(
    `  enrollments: ${started} (${abandoned} abandoned before finalize, kept alive until their 25 h deadline)`,
  );
  console.log(
    `  vendor calls: ${s.total} (token: ${s.tokenCalls - s.whoami}, api_key: ${s.apiKeyCalls}, whoami: ${s.whoami}, login: ${s.logins}); 401 answers: ${s.unauthorized}`,
  );
  console.log(`  per 1,000 vendor calls: ${per1000(s.logins)} logins, ${per1000(s.whoami)} whoami`);
  console.log(
    `  per 1,000 business calls (login and whoami excluded): ${((s.logins / business) * 1000).toFixed(2)} logins, ${((s.whoami / business) * 1000).toFixed(2)} whoami`,
  );
  console.log(`  a login per token call instead would have been ${s.tokenCalls - s.whoami} logins`);
  console.log(`  session: ${JSON.stringify(session.stats)}; wall time ${((Date.now() - wall) / 1000).toFixed(1)} s`);

  session.close();
  await server.close();
  fs.rmSync(evidenceDir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
