/** What the server did for a workflow, counted from its history: p2's shape of a flow, p3's work of a parked one. */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

const T = temporal.api.enums.v1.EventType;

export interface FlowWork {
  events: number;
  workflowTasks: number;
  activities: number;
  timers: number;
  signals: number;
  updates: number;
  /** Child starts the workflow asked for. */
  children: number;
}

/** The counts of one workflow's current run, and the ids of the children that started. Throws when there is no such workflow. */
export async function countHistory(
  client: Client,
  workflowId: string,
): Promise<{ work: FlowWork; startedChildren: string[] }> {
  const work: FlowWork = { events: 0, workflowTasks: 0, activities: 0, timers: 0, signals: 0, updates: 0, children: 0 };
  const startedChildren: string[] = [];
  for (const e of (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? []) {
    work.events++;
    if (e.eventType === T.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) work.workflowTasks++;
    else if (e.eventType === T.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) work.activities++;
    else if (e.eventType === T.EVENT_TYPE_TIMER_STARTED) work.timers++;
    else if (e.eventType === T.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED) work.signals++;
    else if (e.eventType === T.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED) work.updates++;
    else if (e.eventType === T.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED) work.children++;
    else if (e.eventType === T.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED) {
      const child = e.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.workflowId;
      if (child) startedChildren.push(child);
    }
  }
  return { work, startedChildren };
}
