import type { WorkflowHandle } from '@temporalio/client';
import { STATE_MEMO_KEY, TERMINAL_STATUSES, type VerificationState } from '../workflows/shared';

/**
 * Whether the workflow exists and has closed. The server answers NOT_FOUND both for an unknown
 * workflow and for a signal or update sent to a closed one: describe() tells them apart.
 */
export async function hasClosed(handle: WorkflowHandle): Promise<boolean> {
  try {
    return (await handle.describe()).status.name !== 'RUNNING';
  } catch {
    return false;
  }
}

/**
 * Whether the verification has ended: its workflow closed, or the state it published is final (the
 * workflow still hands its last notifications over and drains its handlers for a moment after that).
 */
export async function hasEnded(handle: WorkflowHandle): Promise<boolean> {
  try {
    const d = await handle.describe();
    if (d.status.name !== 'RUNNING') return true;
    const published = d.memo?.[STATE_MEMO_KEY] as Pick<VerificationState, 'status'> | undefined;
    return !!published && TERMINAL_STATUSES.includes(published.status);
  } catch {
    return false;
  }
}
