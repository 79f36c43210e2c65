/** ID360's activities as the enrollment workflow calls them, and how long the worker keeps ID360's token alive. */
import type { Id360Activities } from '../activities/id360';
import type { Id360Flow } from './id360-messages';
import { vendorActivities } from './activity-queues';

export const id360 = vendorActivities<Id360Activities>('id360', {
  startToClose: '2 minutes',
  scheduleToClose: '1 hour',
});

/** The steps our caller is waiting on: short, so that the caller gets an answer while it still listens. */
export const id360Steps = vendorActivities<Id360Activities>('id360', {
  startToClose: '1 minute',
  scheduleToClose: '2 minutes',
  retry: { maximumInterval: '10 seconds' },
});

/** The token is held alive this much past the deadline, for the report downloads that follow a late verdict. */
const HOLD_MARGIN_MS = 10 * 60_000;

/** How long the worker keeps ID360's login token alive for this enrollment: to the deadline and a margin. */
export function holdForMs(flow: Id360Flow): number {
  return Math.max(0, flow.deadlineAt - Date.now()) + HOLD_MARGIN_MS;
}
