/**
 * All activities, built over their dependencies: the worker passes the real ones, tests may pass
 * their own (a temporary evidence folder, a sandbox base URL).
 */
import type { AppConfig } from '../config';
import type { EvidenceStore } from './evidence-store';
import { createFinwaveActivities } from './finwave';

export interface ActivityDeps {
  config: Pick<AppConfig, 'vendors' | 'publicBaseUrl' | 'webhookSecret'>;
  store: EvidenceStore;
}

export function createActivities({ config, store }: ActivityDeps) {
  return {
    ...createFinwaveActivities({
      config: config.vendors.finwave,
      store,
      publicBaseUrl: config.publicBaseUrl,
      webhookSecret: config.webhookSecret,
    }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
