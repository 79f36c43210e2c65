/**
 * p2: full sandboxed flows per second, Finwave and Fourthline through every human step, against the
 * skeleton replaying the same event shape (bench/skeleton/workflows.ts).
 *
 * The first flow of each vendor is the warm-up and the model: its history (and its children's) is
 * counted into a shape. Then `flows` flows per side run with `concurrency` at once; throughput is
 * completed flows per second of wall time. Both sides poll their GET every 100 ms until the end, as
 * an integrator's backend would.
 */
import type { Client } from '@temporalio/client';
import { fourthlineFlow } from '../../test/helpers/fourthline';
import type { Stack } from '../../test/helpers/stack';
import { pool, round } from '../load';
import { poll, type BenchContext } from '../context';
import type { Shape } from '../skeleton/workflows';
import { withCpu, type CpuProfile } from '../cpu';
import { countHistory } from '../history';

type Vendor = 'finwave' | 'fourthline';

export interface P2Side {
  flows: number;
  failed: number;
  seconds: number;
  flowsPerSecond: number;
  firstError?: string;
  /** Where the CPU went during the run (bench/cpu.ts). */
  cpu?: CpuProfile;
}

export interface P2Result {
  finwave: { ours: P2Side; skeleton: P2Side; ratio: number; shape: Shape };
  fourthline: { ours: P2Side; skeleton: P2Side; ratio: number; shape: Shape };
  throughputRatio: number;
}

const ENDED = ['completed', 'failed', 'expired', 'cancelled'];

export async function p2(ctx: BenchContext): Promise<P2Result> {
  const out = {} as P2Result;
  for (const vendor of ['finwave', 'fourthline'] as const) {
    ctx.log(`p2: ${vendor}: warm-up flow, counting its shape`);
    const firstId = await ourFlow(ctx, vendor, `p2-${vendor}-${ctx.runId}-warmup`);
    const shape = await shapeOf(ctx.client, firstId);
    ctx.log(
      `p2: ${vendor}: shape ${JSON.stringify(shape)}; ${ctx.counts.p2.flows} flows, ${ctx.counts.p2.concurrency} at once`,
    );
    const { flows, concurrency, maxSeconds } = ctx.counts.p2;
    const ours = side(
      await withCpu(ctx, `p2: ${vendor}: ours`, () =>
        pool(
          flows,
          concurrency,
          maxSeconds * 1000,
          async (i) => void (await ourFlow(ctx, vendor, `p2-${vendor}-${ctx.runId}-${i}`)),
        ),
      ),
    );
    await skeletonFlow(ctx, shape, `sk-p2-${vendor}-${ctx.runId}-warmup`);
    const skeleton = side(
      await withCpu(ctx, `p2: ${vendor}: skeleton`, () =>
        pool(flows, concurrency, maxSeconds * 1000, (i) =>
          skeletonFlow(ctx, shape, `sk-p2-${vendor}-${ctx.runId}-${i}`),
        ),
      ),
    );
    out[vendor] = {
      ours,
      skeleton,
      ratio: round(ours.flowsPerSecond / Math.max(skeleton.flowsPerSecond, 1e-9)),
      shape,
    };
  }
  out.throughputRatio = Math.min(out.finwave.ratio, out.fourthline.ratio);
  return out;
}

function side({
  result: r,
  cpu,
}: {
  result: { done: number; failed: number; seconds: number; firstError?: string };
  cpu: CpuProfile;
}): P2Side {
  return {
    flows: r.done,
    failed: r.failed,
    seconds: round(r.seconds, 1),
    flowsPerSecond: round(r.done / r.seconds, 3),
    ...(r.firstError ? { firstError: r.firstError } : {}),
    cpu,
  };
}

async function ourFlow(ctx: BenchContext, vendor: Vendor, reference: string): Promise<string> {
  const waitFor = (id: string, until: (s: any) => boolean, timeoutMs = 60_000) =>
    poll(
      async () => (await ctx.api('GET', `/v1/verifications/${encodeURIComponent(id)}`)).body,
      (s) => Boolean(s) && until(s),
      timeoutMs,
      `${id}`,
    );
  if (vendor === 'finwave') {
    const created = await ctx.api('POST', '/v1/verifications', {
      provider: 'finwave',
      reference,
      options: { acceptations: [{ mandatory: true, text: 'I accept the terms' }] },
    });
    if (created.status !== 201)
      throw new Error(`finwave create answered ${created.status}: ${JSON.stringify(created.body)}`);
    const finish = await ctx.sandbox('POST', `/finwave/_sandbox/onboardings/${created.body.providerReference}/finish`, {
      scenario: 'approved',
    });
    if (finish.status !== 200) throw new Error(`finwave finish answered ${finish.status}`);
    const done = await waitFor(created.body.id, (s) => ENDED.includes(s.status));
    if (done.outcome !== 'approved') throw new Error(`finwave ended ${done.status}/${done.outcome}: ${done.reason}`);
    return created.body.id;
  }
  // Fourthline, driven exactly as the tests drive it (test/helpers/fourthline.ts).
  const stack = { api: ctx.api, sandboxUrl: ctx.sandboxUrl, waitFor } as unknown as Stack;
  const f = fourthlineFlow(stack);
  const v = await f.create(reference);
  const identity = await f.identity(v.id, 'completed');
  if (identity.status !== 200)
    throw new Error(`fourthline identity answered ${identity.status}: ${JSON.stringify(identity.body)}`);
  await waitFor(v.id, (s) => s.nextAction?.type === 'action' && s.nextAction.action === 'documents');
  await f.signUpToApproval(v.id);
  const confirmed = await f.approveAndConfirm(v.id);
  if (confirmed.status !== 200)
    throw new Error(`fourthline confirm answered ${confirmed.status}: ${JSON.stringify(confirmed.body)}`);
  const done = await waitFor(v.id, (s) => ENDED.includes(s.status));
  if (done.outcome !== 'approved') throw new Error(`fourthline ended ${done.status}/${done.outcome}: ${done.reason}`);
  return v.id;
}

/** The counts of a flow's history and its children's: what the skeleton must do to be the same work. */
export async function shapeOf(client: Client, workflowId: string): Promise<Shape> {
  const shape: Shape = { activities: 0, signals: 0, updates: 0, timers: 0, children: 0 };
  const queue = [workflowId];
  for (let seen = 0; queue.length && seen < 50; seen++) {
    const { work, startedChildren } = await countHistory(client, queue.shift()!);
    shape.activities += work.activities;
    shape.signals += work.signals;
    shape.updates += work.updates;
    shape.timers += work.timers;
    shape.children += startedChildren.length;
    queue.push(...startedChildren);
  }
  return shape;
}

/** The skeleton's flow of that shape: create (start + update), then each signal and update in turn, then poll to the end. */
async function skeletonFlow(ctx: BenchContext, shape: Shape, id: string): Promise<void> {
  const created = await ctx.skeleton('POST', `/create/${id}`, { shape });
  if (created.status !== 201)
    throw new Error(`skeleton create answered ${created.status}: ${JSON.stringify(created.body)}`);
  let signals = shape.signals;
  let updates = shape.updates - 1;
  while (signals + updates > 0) {
    // Alternate, signals first, as webhooks and human steps alternate in ours.
    const useSignal = signals > 0 && (signals >= updates || updates === 0);
    const r = useSignal ? await ctx.skeleton('POST', `/signal/${id}`) : await ctx.skeleton('POST', `/update/${id}`);
    if (r.status !== 200) throw new Error(`skeleton ${useSignal ? 'signal' : 'update'} answered ${r.status}`);
    if (useSignal) signals--;
    else updates--;
  }
  await poll(
    () => ctx.skeleton('GET', `/flows/${id}`),
    (r) => r.status === 200 && r.body?.done === true,
    60_000,
    `skeleton ${id}`,
  );
}
