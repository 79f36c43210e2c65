import type { WorkflowHandle } from '@temporalio/client';

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
