/** How big a workflow's history is, per run (events and encoded bytes): for the bounded-history tests. */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

export interface RunSize {
  runId: string;
  events: number;
  bytes: number;
}

/** Every run of a workflow id, first to last, following the continue-as-new chain (works on the time-skipping server, which has no list API). */
export async function runSizes(client: Client, workflowId: string): Promise<RunSize[]> {
  const d = await client.workflow.getHandle(workflowId).describe();
  let runId: string | null | undefined = d.raw.workflowExecutionInfo?.firstRunId || d.runId;
  const runs: RunSize[] = [];
  while (runId) {
    const history: temporal.api.history.v1.IHistory = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events: temporal.api.history.v1.IHistoryEvent[] = history.events ?? [];
    runs.push({ runId, events: events.length, bytes: temporal.api.history.v1.History.encode(history).finish().length });
    const last: temporal.api.history.v1.IHistoryEvent | undefined = events[events.length - 1];
    runId = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
  }
  return runs;
}
