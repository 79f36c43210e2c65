import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import type { SignalDefinition } from '@temporalio/workflow';
import { ApiError } from '../api-error';
import { hasClosed } from '../workflow-status';
import { observeSignalDelivered } from '../metrics';

/**
 * Signals the workflow. A verification that has already ended answers 200 with a note, so that the
 * vendor stops retrying a notification nobody waits for any more.
 */
export async function signalOrExplain<T extends unknown[]>(
  handle: WorkflowHandle,
  signal: SignalDefinition<T>,
  ...args: T
): Promise<{ received: boolean; note?: string }> {
  try {
    await handle.signal(signal, ...args);
    observeSignalDelivered('signalled');
    return { received: true };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) {
      if (await hasClosed(handle)) {
        observeSignalDelivered('ended');
        return { received: false, note: 'the verification has already ended' };
      }
      throw new ApiError(404, 'not_found', 'verification not found');
    }
    throw err;
  }
}
