/**
 * p3: N Finwave flows parked on their timers. Ours: created through our API by `createConnections`
 * concurrent callers (each create opens a sandbox onboarding, whose CREATED webhook wakes the flow
 * once to read the result; then it sleeps on its 15-minute poll timer). The skeleton: the same
 * (start + update, one activity, one signal, one activity, a timer). Then GET with `getConnections`
 * callers over random parked flows, then each worker's RSS after a forced GC.
 */
import { load, round, type LoadResult } from '../load';
import { rssMbOf } from '../processes';
import type { BenchContext } from '../context';
import type { ChildMessage } from '../ipc';
import type { Client } from '@temporalio/client';
import { outboxWorkflowId } from '../../workflows/notify-shared';
import { settle, withCpu, type CpuProfile } from '../cpu';
import { countHistory, type FlowWork } from '../history';

export interface P3Side {
  parked: number;
  createRps: number;
  createP50Ms: number;
  createP99Ms: number;
  createFailed: number;
  getP50Ms: number;
  getP99Ms: number;
  getRps: number;
  getFailed: number;
  workerRssIdleMb: number | null;
  workerRssMb: number | null;
  /** Where the CPU went during the create ramp and the GET phase (bench/cpu.ts): the profile of the bound. */
  cpu: { create: CpuProfile | null; get: CpuProfile | null };
}

export interface P3Result {
  parked: number;
  ours: P3Side;
  skeleton: P3Side;
  temporalRssMb: number | null;
  workerRssMb: number | null;
  createP99Ms: number;
  getP99Ms: number;
  skeletonWorkerRssMb: number | null;
  skeletonCreateP99Ms: number;
  skeletonGetP99Ms: number;
  /** The Temporal work of one parked flow, from its history: ours (the verification and its notifications outbox) and the skeleton's. */
  work: { ours: FlowWork; oursOutbox: FlowWork; skeleton: FlowWork | null };
}

/** Counts what the server did for one workflow (its current run), from its history; zeros when it is not there. */
async function workOf(client: Client, workflowId: string): Promise<FlowWork> {
  try {
    return (await countHistory(client, workflowId)).work;
  } catch {
    // not there (no outbox when notifications are off): zeros
    return { events: 0, workflowTasks: 0, activities: 0, timers: 0, signals: 0, updates: 0, children: 0 };
  }
}

async function rss(ctx: BenchContext, which: 'ours' | 'skeleton'): Promise<number | null> {
  const a = (await (which === 'ours' ? ctx.ourWorker : ctx.skeletonWorker).ask({ type: 'rss' })) as Extract<
    ChildMessage,
    { type: 'rss' }
  >;
  if (!a.gc) ctx.log(`p3: warning: the ${which} worker runs without --expose-gc; RSS without a forced GC`);
  return a.rssMb;
}

export async function p3(ctx: BenchContext): Promise<P3Result> {
  const c = ctx.counts.p3;
  const auth = { authorization: `Bearer ${ctx.apiKey}` };

  const oursIdle = await rss(ctx, 'ours');
  ctx.log(`p3: ours: creating ${c.parked} Finwave verifications, ${c.createConnections} callers`);
  const ref = (i: number) => `p3-${ctx.runId}-${i}`;
  const { result: create, cpu: createCpu } = await withCpu(ctx, 'p3: ours, create ramp', () =>
    load({
      url: ctx.apiUrl,
      connections: c.createConnections,
      amount: c.parked,
      maxSeconds: c.maxSeconds,
      headers: auth,
      // Parked on a 1-hour timer, as the skeleton's flows (the default poll, every 15 minutes, would start
      // polling during a 10,000-flow ramp and add to one side only).
      next: (i) => ({
        path: '/v1/verifications',
        body: { provider: 'finwave', reference: ref(i), options: { pollInterval: '1 hour' } },
      }),
    }),
  );
  // The CREATED webhooks land, each flow reads its result once and parks: wait until the machine is quiet.
  ctx.log(`p3: ours: settled in ${await settle(ctx.pids, { minSeconds: 5, maxSeconds: c.settleSeconds })} s`);
  const parkedOurs = create.ok;
  ctx.log(`p3: ours: ${parkedOurs} parked; GET, ${c.getConnections} callers, ${c.getSeconds} s`);
  const { result: get, cpu: getCpu } = await withCpu(ctx, 'p3: ours, GET', () =>
    load({
      url: ctx.apiUrl,
      method: 'GET',
      connections: c.getConnections,
      maxSeconds: c.getSeconds,
      headers: auth,
      next: () => ({
        path: `/v1/verifications/${encodeURIComponent(`finwave:${ref(Math.floor(Math.random() * Math.max(1, parkedOurs)))}`)}`,
      }),
    }),
  );
  const oursRss = await rss(ctx, 'ours');
  const work = {
    ours: await workOf(ctx.client, `finwave:${ref(0)}`),
    oursOutbox: await workOf(ctx.client, outboxWorkflowId(`finwave:${ref(0)}`)),
  };
  ctx.log(
    `p3: ours: one parked flow's history: ${JSON.stringify(work.ours)}; its outbox's: ${JSON.stringify(work.oursOutbox)}`,
  );

  const sk = c.oursOnly ? null : await skeletonSide(ctx);
  if (sk === null) ctx.log('p3: --ours-only: the skeleton side is not measured');
  ctx.log(`p3: ours: worker RSS after GC ${oursIdle} MB idle, ${oursRss} MB with ${parkedOurs} parked`);

  const side = (
    cr: LoadResult,
    g: LoadResult,
    idle: number | null,
    after: number | null,
    cpu: P3Side['cpu'],
  ): P3Side => ({
    parked: cr.ok,
    createRps: cr.rps,
    createP50Ms: cr.p50Ms,
    createP99Ms: cr.p99Ms,
    createFailed: cr.non2xx + cr.errors,
    getP50Ms: g.p50Ms,
    getP99Ms: g.p99Ms,
    getRps: g.rps,
    getFailed: g.non2xx + g.errors,
    workerRssIdleMb: idle,
    workerRssMb: after,
    cpu,
  });
  const ours = side(create, get, oursIdle, oursRss, { create: createCpu, get: getCpu });
  const none: LoadResult = { ok: 0, non2xx: 0, errors: 0, seconds: 0, rps: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 };
  const skeleton = sk
    ? side(sk.create, sk.get, sk.idle, sk.rss, sk.cpu)
    : side(none, none, null, null, { create: null, get: null });
  return {
    parked: c.parked,
    ours,
    skeleton,
    temporalRssMb: rssMbOf(ctx.temporalPid),
    workerRssMb: ours.workerRssMb,
    createP99Ms: round(ours.createP99Ms),
    getP99Ms: round(ours.getP99Ms),
    skeletonWorkerRssMb: skeleton.workerRssMb,
    skeletonCreateP99Ms: round(skeleton.createP99Ms),
    skeletonGetP99Ms: round(skeleton.getP99Ms),
    work: { ...work, skeleton: sk ? sk.work : null },
  };
}

async function skeletonSide(ctx: BenchContext): Promise<{
  create: LoadResult;
  get: LoadResult;
  idle: number | null;
  rss: number | null;
  cpu: P3Side['cpu'];
  work: FlowWork;
}> {
  const c = ctx.counts.p3;
  const skIdle = await rss(ctx, 'skeleton');
  ctx.log(`p3: skeleton: creating ${c.parked} flows, ${c.createConnections} callers`);
  const skId = (i: number) => `sk-p3-${ctx.runId}-${i}`;
  const parkedShape = { activities: 0, signals: 0, updates: 1, timers: 0, children: 0, loop: true };
  const { result: skCreate, cpu: createCpu } = await withCpu(ctx, 'p3: skeleton, create ramp', () =>
    load({
      url: ctx.skeletonUrl,
      connections: c.createConnections,
      amount: c.parked,
      maxSeconds: c.maxSeconds,
      next: (i) => ({ path: `/create/${skId(i)}`, body: { shape: parkedShape } }),
    }),
  );
  // The webhook's counterpart: one signal per flow, which reads (a no-op) once and parks.
  await load({
    url: ctx.skeletonUrl,
    connections: c.createConnections,
    amount: skCreate.ok,
    maxSeconds: c.maxSeconds,
    next: (i) => ({ path: `/signal/${skId(i)}` }),
  });
  ctx.log(`p3: skeleton: settled in ${await settle(ctx.pids, { minSeconds: 5, maxSeconds: c.settleSeconds })} s`);
  const { result: skGet, cpu: getCpu } = await withCpu(ctx, 'p3: skeleton, GET', () =>
    load({
      url: ctx.skeletonUrl,
      method: 'GET',
      connections: c.getConnections,
      maxSeconds: c.getSeconds,
      next: () => ({ path: `/flows/${skId(Math.floor(Math.random() * Math.max(1, skCreate.ok)))}` }),
    }),
  );
  const skRss = await rss(ctx, 'skeleton');
  const work = await workOf(ctx.client, skId(0));
  ctx.log(`p3: skeleton: one parked flow's history: ${JSON.stringify(work)}`);
  return { create: skCreate, get: skGet, idle: skIdle, rss: skRss, cpu: { create: createCpu, get: getCpu }, work };
}
