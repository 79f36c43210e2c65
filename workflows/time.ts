import { msToNumber } from '@temporalio/common/lib/time';
import type { Duration } from '@temporalio/common';

/** A Temporal Duration ('15 minutes', '2h', 5000) in milliseconds. */
export function ms(duration: Duration): number {
  return msToNumber(duration);
}
