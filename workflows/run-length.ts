/**
 * How long one run of a polling workflow gets before it continues as new (the verification, its
 * deadline and what the vendor told it carried across; see Verification.runToEnd).
 */
import { workflowInfo } from '@temporalio/workflow';

/**
 * Reads of the vendor per run. A read is about 11 events, so a run stays near 3,300 events; a
 * 1-minute poll over a 30-day deadline is 43,200 reads, which in one run would pass Temporal's
 * 51,200-event limit.
 */
export const POLLS_PER_RUN = 300;

/**
 * True when this run should continue as new: `polls` reads done (`pollsPerRun`, test-only, lowers
 * the bound) or Temporal suggests it. The suggestion refreshes per workflow task, so a flow asleep
 * on a long timer sees it once woken.
 */
export function runIsFull(polls: number, pollsPerRun = POLLS_PER_RUN): boolean {
  return polls >= pollsPerRun || workflowInfo().continueAsNewSuggested;
}
