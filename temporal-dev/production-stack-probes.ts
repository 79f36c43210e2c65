/** Readiness probes of the production-shaped stack: wait for a part, and see what it does. */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

export interface Proc {
  name: string;
  child: ChildProcess;
  /** Its last output lines, for the error message when it does not come up. */
  tail: string[];
}

export const exited = (p: Proc) => p.child.exitCode !== null || p.child.signalCode !== null;
export const lastOutput = (p: Proc) => (p.tail.length ? p.tail.slice(-5).join(' | ') : '(no output)');

/**
 * Polls `check` until it holds, or fails: when the start's deadline has passed (naming the part and the last
 * error `check` threw), or at once when one of the `watch`ed processes has exited (with its last output).
 */
export async function waitFor(
  what: string,
  deadline: number,
  check: () => Promise<boolean>,
  watch: Proc[] = [],
): Promise<void> {
  let lastError = '';
  for (;;) {
    const dead = watch.find(exited);
    if (dead)
      throw new Error(
        `${what}: process ${dead.name} exited (${dead.child.exitCode ?? dead.child.signalCode}) before it was ready; its last output: ${lastOutput(dead)}`,
      );
    try {
      if (await check()) return;
    } catch (err) {
      lastError = (err as Error).message.split('\n').slice(-2).join(' ');
    }
    if (Date.now() > deadline) {
      const outputs = watch.map((p) => `${p.name}: ${lastOutput(p)}`).join('; ');
      throw new Error(
        `${what} not ready by the start deadline (STACK_START_TIMEOUT_S)${lastError ? `; last error: ${lastError}` : ''}${outputs ? `; last output of ${outputs}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

export const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

export async function answers200(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
  return true;
}

export function rssKb(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/**
 * Each worker process (by the SDK's default identity `pid@host`) polls the workflow queue for workflow
 * tasks and every vendor task queue for activity tasks (config/task-queues.ts).
 */
export async function workersPolling(
  connection: Connection,
  workflowQueue: string,
  activityQueues: string[],
  pids: number[],
): Promise<boolean> {
  const { TASK_QUEUE_TYPE_WORKFLOW, TASK_QUEUE_TYPE_ACTIVITY } = temporal.api.enums.v1.TaskQueueType;
  const checks = [
    [workflowQueue, TASK_QUEUE_TYPE_WORKFLOW] as const,
    ...activityQueues.map((q) => [q, TASK_QUEUE_TYPE_ACTIVITY] as const),
  ];
  for (const [queue, taskQueueType] of checks) {
    const res = await connection.workflowService.describeTaskQueue({
      namespace: 'default',
      taskQueue: { name: queue },
      taskQueueType,
    });
    const ids = (res.pollers ?? []).map((p) => p.identity ?? '');
    const missing = pids.filter((pid) => !ids.some((id) => id.startsWith(`${pid}@`)));
    if (missing.length)
      throw new Error(
        `no poller of process ${missing.join(', ')} on ${queue} (${taskQueueType === TASK_QUEUE_TYPE_WORKFLOW ? 'workflow' : 'activity'} tasks) yet`,
      );
  }
  return true;
}
