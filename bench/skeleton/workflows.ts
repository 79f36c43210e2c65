/**
 * The skeleton: the same Temporal work as one of our flows with none of our code. A flow is described
 * by its *shape* (how many activities, signals, updates, timers and child workflows our flow's history
 * holds, counted by the bench from a real run), and this one workflow replays that shape with no-op
 * bodies: every signal or update is awaited in turn (a `condition` with a timeout while timers remain,
 * as our flows race human steps against their deadlines), the activities are spread over the waits,
 * the remaining timers are started and cancelled, the children are trivial.
 *
 * `loop: true` is the webhook receiver's counterpart (p1): each signal wakes the flow, which runs one
 * activity (our Finwave flow reads the result after each webhook), until `stop` is signalled.
 */
import {
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  executeChild,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { SkeletonActivities } from './activities';

export interface Shape {
  activities: number;
  signals: number;
  updates: number;
  timers: number;
  children: number;
  /** p1: run one activity per wake-up (signals coalesce, as ours do) until `stop`. */
  loop?: boolean;
}

export const skeletonSignal = defineSignal<[{ n: number }]>('skeletonSignal');
export const skeletonStop = defineSignal('skeletonStop');
/** Counts as one of the shape's updates; answers once the first activity ran (like our create's nextAction). */
export const skeletonUpdate = defineUpdate<number, [{ n: number }]>('skeletonUpdate');
export const skeletonState = defineQuery<{ events: number; activities: number; done: boolean }>('skeletonState');

const act = proxyActivities<SkeletonActivities>({ startToCloseTimeout: '1 minute' });

export async function skeletonFlow(shape: Shape): Promise<{ events: number; activities: number }> {
  let events = 0;
  let ran = 0;
  let done = false;
  let stop = false;
  setHandler(skeletonSignal, () => void events++);
  setHandler(skeletonStop, () => void (stop = true));
  setHandler(skeletonUpdate, async () => {
    events++;
    await condition(() => ran > 0, '20 seconds');
    return events;
  });
  setHandler(skeletonState, () => ({ events, activities: ran, done }));
  const run = async (n: number) => {
    for (let i = 0; i < n; i++) {
      await act.skeletonNoop();
      ran++;
    }
  };

  if (shape.loop) {
    await run(1);
    let seen = 0;
    while (!stop) {
      await condition(() => events > seen || stop, '1 hour');
      if (stop) break;
      seen = events;
      await run(1);
    }
    done = true;
    return { events, activities: ran };
  }

  const waits = shape.signals + shape.updates;
  let timers = shape.timers;
  // Timers beyond the waits: started now, cancelled at the end (ours mostly cancel theirs too).
  const extra: Promise<boolean>[] = [];
  for (; timers > waits; timers--) extra.push(condition(() => done, '24 hours'));
  const activities = Math.max(0, shape.activities - shape.children);
  await run(Math.min(1, activities));
  let left = activities - ran;
  for (let i = 0; i < waits; i++) {
    if (timers > 0) {
      timers--;
      await condition(() => events > i, '1 hour');
    } else {
      await condition(() => events > i);
    }
    const share = Math.ceil(left / (waits - i));
    await run(share);
    left -= share;
  }
  await run(left);
  for (let c = 0; c < shape.children; c++) {
    await executeChild(skeletonChild, { workflowId: `${workflowInfo().workflowId}-child-${c}` });
  }
  done = true;
  await Promise.all(extra);
  return { events, activities: ran };
}

/** A child workflow with one no-op activity. */
export async function skeletonChild(): Promise<void> {
  await act.skeletonNoop();
}
