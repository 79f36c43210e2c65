/**
 * Reading a verification never needs a worker (docs/changing-workflow-code.md#reading-never-needs-a-worker).
 *
 * A query runs on a worker, which replays the whole history: with no worker running it hangs until
 * the gRPC deadline, and after an incompatible code change it fails for every old verification. So:
 *
 * - a CLOSED verification is answered from data the server holds: the workflow's result (every
 *   vendor workflow returns its final VerificationState), read from the close event;
 * - an OPEN one that waits (no workflow task pending) from its memo, when the run keeps the memo
 *   current (`memoCurrent`: workflows/verification.ts `publish()`) and it holds the whole timeline: a
 *   verification parked on its timers is read without a worker replaying it;
 * - any other OPEN one from the state query with a short deadline (QUERY_DEADLINE_MS), falling back
 *   to the last state the workflow published in its memo (workflows/verification.ts `publish()`; the
 *   memo is encrypted by our payload codec and `describe()` decodes it);
 * - a run with neither (started before the memo existed, or not yet picked up by any worker) from
 *   its search attributes: provider, status and outcome, never personal data.
 *
 * `source` says which, for the `Verification-Source` response header and the tests.
 */
import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { QueryDefinition } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import {
  parseVerificationId,
  SEARCH_ATTRIBUTES,
  STATE_MEMO_KEY,
  stateQuery,
  type PublishedState,
  TERMINAL_STATUSES,
  type VerificationState,
  type VerificationStatus,
} from '../workflows/shared';
import { notFound } from './api-error';

/** How long an open verification's query may take before the published state answers instead. */
// 750 ms, not 1 s: with the describe before it and a loaded API, a read without a worker still answers well within 2 s.
export const QUERY_DEADLINE_MS = 750;

export type ReadSource = 'result' | 'query' | 'memo' | 'search-attributes';

type Description = Awaited<ReturnType<WorkflowHandle['describe']>>;

export function verificationHandle(client: Client, id: string): WorkflowHandle {
  if (!parseVerificationId(id)) throw notFound();
  return client.workflow.getHandle(id);
}

async function describe(handle: WorkflowHandle): Promise<Description> {
  try {
    return await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw notFound();
    throw err;
  }
}

/**
 * A closed run that published nothing (started before the memo existed) is still answered by a
 * query while a worker of its build runs: it replays the whole history, so it may take longer.
 */
export const LEGACY_QUERY_DEADLINE_MS = 5_000;

/** The query's answer within the deadline, or null (no worker, a busy worker, a failing replay). */
export async function queryWithin<T>(
  client: Client,
  handle: WorkflowHandle,
  query: QueryDefinition<T, []>,
  deadlineMs = QUERY_DEADLINE_MS,
): Promise<T | null> {
  try {
    return await client.withDeadline(Date.now() + deadlineMs, () => handle.query(query));
  } catch {
    return null;
  }
}

/** `withAudit`: the caller reads the audit trail, which the memo leaves out (so never from the current memo). */
export async function readVerification(
  client: Client,
  id: string,
  { withAudit = false }: { withAudit?: boolean } = {},
): Promise<{ state: VerificationState; source: ReadSource }> {
  const desc = await describe(verificationHandle(client, id));
  // Pin the run describe() saw: the latest one (a continued-as-new chain ends in it).
  const handle = client.workflow.getHandle(id, desc.runId);
  const status = desc.status.name;
  if (status === 'COMPLETED') {
    try {
      return { state: (await handle.result()) as VerificationState, source: 'result' };
    } catch {
      // Not a state (a workflow type that returns nothing): the published state below.
    }
  }
  if (status === 'RUNNING') {
    const current = withAudit ? null : currentMemo(desc);
    if (current) return { state: current, source: 'memo' };
    const state = await queryWithin(client, handle, stateQuery);
    if (state) return { state, source: 'query' };
  }
  const closed: ClosedRun = {
    status,
    at: (desc.closeTime ?? new Date()).toISOString(),
    why: status === 'TERMINATED' ? await terminationReason(client, id, desc.runId) : null,
  };
  const published = desc.memo?.[STATE_MEMO_KEY] as VerificationState | undefined;
  if (published) return { state: closedAs(published, closed), source: 'memo' };
  if (status !== 'RUNNING' && status !== 'TERMINATED') {
    const state = await queryWithin(client, handle, stateQuery, LEGACY_QUERY_DEADLINE_MS);
    if (state) return { state: closedAs(state, closed), source: 'query' };
  }
  return { state: closedAs(fromSearchAttributes(id, desc), closed), source: 'search-attributes' };
}

/**
 * The memo of a run that publishes after every change, while no workflow task is pending (nothing
 * arrived that it has not handled yet) and nothing of the timeline was left out: what the state
 * query would answer, read from the server alone. Null otherwise.
 */
export function currentMemo(desc: Pick<Description, 'memo' | 'raw'>): VerificationState | null {
  const published = desc.memo?.[STATE_MEMO_KEY] as PublishedState | undefined;
  if (!published?.memoCurrent || published.memoTruncated?.timeline || desc.raw.pendingWorkflowTask) return null;
  const { memoCurrent: _current, memoTruncated: _truncated, ...state } = published;
  return state;
}

interface ClosedRun {
  status: Description['status']['name'];
  /** When the run closed (ISO). */
  at: string;
  /** The reason an operator gave to `temporal workflow terminate` / the Web UI, if any. */
  why: string | null;
}

/** The reason given with a terminate (the close event holds it; describe() does not), or null. */
async function terminationReason(client: Client, workflowId: string, runId: string): Promise<string | null> {
  try {
    const res = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId, runId },
      historyEventFilterType: temporal.api.enums.v1.HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
    });
    const reason = res.history?.events?.[0]?.workflowExecutionTerminatedEventAttributes?.reason?.trim();
    return reason ? reason.slice(0, 200) : null;
  } catch {
    return null;
  }
}

/**
 * A read model a vendor workflow publishes next to its state (e.g. a case view with its children): the
 * query while the workflow runs (short deadline), else the memo. Null when neither answers.
 */
export async function readPublished<T>(
  client: Client,
  id: string,
  query: QueryDefinition<T, []>,
  memoKey: string,
): Promise<T | null> {
  const desc = await describe(verificationHandle(client, id));
  const handle = client.workflow.getHandle(id, desc.runId);
  const status = desc.status.name;
  if (status === 'RUNNING') {
    const answer = await queryWithin(client, handle, query);
    if (answer) return answer;
  }
  const published = desc.memo?.[memoKey] as T | undefined;
  if (published) return published;
  return status !== 'RUNNING' && status !== 'TERMINATED'
    ? queryWithin(client, handle, query, LEGACY_QUERY_DEADLINE_MS)
    : null;
}

/**
 * A run that closed without a final decision (terminated, timed out, failed, cancelled natively)
 * keeps whatever it last published: say it ended, rather than show a stale `awaiting_user`.
 */
function closedAs(s: VerificationState, { status, at: now, why }: ClosedRun): VerificationState {
  if (status === 'RUNNING' || status === 'COMPLETED' || TERMINAL_STATUSES.includes(s.status)) return s;
  const cancelled = status === 'CANCELLED';
  const reason =
    status === 'TERMINATED'
      ? `the workflow was terminated from Temporal (Web UI or CLI) before the verification ended${why ? `: ${why}` : ''}`
      : `the workflow was ${status.toLowerCase().replace(/_/g, ' ')} before the verification ended`;
  const to: VerificationStatus = cancelled ? 'cancelled' : 'failed';
  return {
    ...s,
    status: to,
    outcome: cancelled ? null : 'error',
    reason,
    nextAction: { type: 'restart', reason: 'start a new verification with a new reference' },
    timeline: [...s.timeline, { at: now, event: to, status: to, providerStatus: s.providerStatus, detail: reason }],
    updatedAt: now,
  };
}

/** What the search attributes say (no personal data there): enough for the status, not the details. */
function fromSearchAttributes(id: string, desc: Description): VerificationState {
  const { provider, reference } = parseVerificationId(id)!;
  const sa = desc.typedSearchAttributes;
  const status = (sa.get(SEARCH_ATTRIBUTES.status) ?? 'created') as VerificationStatus;
  const outcome = sa.get(SEARCH_ATTRIBUTES.outcome);
  const at = desc.startTime.toISOString();
  return {
    id,
    provider: provider,
    reference,
    status,
    outcome: outcome && outcome !== 'none' ? (outcome as VerificationState['outcome']) : null,
    providerStatus: null,
    providerReference: null,
    reason: null,
    nextAction: { type: 'wait', reason: 'the verification has not been picked up yet; read it again shortly' },
    facts: {},
    evidence: [],
    timeline: [{ at, event: 'created', status: 'created', providerStatus: null }],
    audit: [],
    createdAt: at,
    updatedAt: at,
  };
}
