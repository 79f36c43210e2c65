/**
 * A workflow interceptor (registered by workers/index.ts bundleWorkflows): before a verification
 * workflow closes (returns, fails or continues as new), the notifications it recorded are handed to
 * its outbox. A signal still in flight when a workflow closes would be dropped by the server, and the
 * last event (`verification.completed`) is recorded just before the vendor flow returns.
 * Workflows that recorded nothing await an already-resolved promise: no command, no history change.
 */
import type { WorkflowInterceptorsFactory } from '@temporalio/workflow';
import { notificationsHandedOver } from './notifier';

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [
    {
      async execute(input, next) {
        try {
          return await next(input);
        } finally {
          await notificationsHandedOver();
        }
      },
    },
  ],
});
