/**
 * p1: a valid Finwave webhook -> signal accepted, against a bare Fastify route that only calls signal().
 *
 * Both sides get `targets` open flows that wake on every signal and run one activity (ours reads the
 * result from the Finwave sandbox; the skeleton's is a no-op). The webhook URLs are the ones our
 * worker registered with Finwave, read from the sandbox's control view, so the token scheme is ours
 * to change. Two runs per side: as fast as answered (max sustained rate), then the same offered load
 * for both (half the lower max rate) for p50/p99, so the latencies compare at equal load.
 */
import { load, round, type LoadResult } from '../load';
import { poll, type BenchContext } from '../context';
import { withCpu, type CpuProfile } from '../cpu';

export interface P1Result {
  ours: { maxRps: number; p50Ms: number; p99Ms: number; non2xx: number; errors: number };
  skeleton: { maxRps: number; p50Ms: number; p99Ms: number; non2xx: number; errors: number };
  offeredRps: number;
  p99Ratio: number;
  /** Where the CPU went in each side's max-rate run (bench/cpu.ts). */
  cpu: { ours: CpuProfile; skeleton: CpuProfile };
}

export async function p1(ctx: BenchContext): Promise<P1Result> {
  const { targets, connections, seconds } = ctx.counts.p1;
  ctx.log(`p1: opening ${targets} Finwave verifications and ${targets} skeleton flows`);
  const ours: { path: string; body: unknown }[] = [];
  const ids: string[] = [];
  for (let i = 0; i < targets; i++) {
    const reference = `p1-${ctx.runId}-${i}`;
    const created = await ctx.api('POST', '/v1/verifications', { provider: 'finwave', reference });
    if (created.status !== 201) throw new Error(`create answered ${created.status}: ${JSON.stringify(created.body)}`);
    const onboardingId = created.body.providerReference as string;
    const view = await poll(
      () => ctx.sandbox('GET', `/finwave/_sandbox/onboardings/${onboardingId}`),
      (r) => r.status === 200 && typeof r.body?.webhook === 'string',
      10_000,
      'the registered webhook URL in the Finwave sandbox view',
    );
    const url = new URL(view.body.webhook as string);
    if (url.origin !== new URL(ctx.apiUrl).origin)
      throw new Error(`the registered webhook ${url.origin} is not this bench's API ${ctx.apiUrl}`);
    ours.push({ path: url.pathname, body: { onboardingId, customId: reference, result: 'CREATED' } });
    ids.push(created.body.id as string);
  }
  const skeletonIds: string[] = [];
  for (let i = 0; i < targets; i++) {
    const id = `sk-p1-${ctx.runId}-${i}`;
    const r = await ctx.skeleton('POST', `/create/${id}`, {
      shape: { activities: 0, signals: 0, updates: 1, timers: 0, children: 0, loop: true },
    });
    if (r.status !== 201) throw new Error(`skeleton create answered ${r.status}`);
    skeletonIds.push(id);
  }
  const oursTarget = { url: ctx.apiUrl, next: (i: number) => ours[i % ours.length]! };
  const skTarget = {
    url: ctx.skeletonUrl,
    next: (i: number) => ({ path: `/signal/${skeletonIds[i % skeletonIds.length]}` }),
  };

  ctx.log(`p1: max rate, ${connections} connections, ${seconds} s each`);
  const { result: oursMax, cpu: oursCpu } = await withCpu(ctx, 'p1: ours, max rate', () =>
    load({ ...oursTarget, connections, maxSeconds: seconds }),
  );
  const { result: skMax, cpu: skCpu } = await withCpu(ctx, 'p1: skeleton, max rate', () =>
    load({ ...skTarget, connections, maxSeconds: seconds }),
  );
  const offeredRps = Math.max(1, Math.floor(Math.min(oursMax.rps, skMax.rps) / 2));
  ctx.log(`p1: latency at ${offeredRps} req/s for both`);
  const oursLat = await load({ ...oursTarget, connections, maxSeconds: seconds, overallRate: offeredRps });
  const skLat = await load({ ...skTarget, connections, maxSeconds: seconds, overallRate: offeredRps });

  // Leave nothing open behind: p3 counts the worker's memory with only its own flows.
  for (const id of ids) await ctx.api('POST', `/v1/verifications/${encodeURIComponent(id)}/cancel`, {});
  for (const id of skeletonIds) await ctx.skeleton('POST', `/stop/${id}`);

  const side = (max: LoadResult, lat: LoadResult) => ({
    maxRps: max.rps,
    p50Ms: lat.p50Ms,
    p99Ms: lat.p99Ms,
    non2xx: max.non2xx + lat.non2xx,
    errors: max.errors + lat.errors,
  });
  const o = side(oursMax, oursLat);
  const s = side(skMax, skLat);
  return {
    ours: o,
    skeleton: s,
    offeredRps,
    p99Ratio: round(o.p99Ms / Math.max(s.p99Ms, 0.001)),
    cpu: { ours: oursCpu, skeleton: skCpu },
  };
}
