/**
 * All activities, built over their dependencies: the worker passes the real ones, tests may pass
 * their own (a temporary evidence folder, a sandbox base URL).
 */
import type { AppConfig } from '../config';
import { ownedByCallingWorkflow, type EvidenceStore } from './evidence-store';
import { createFinwaveActivities } from './finwave';
import { createAuthenteqActivities } from './authenteq';
import { createNamirialActivities } from './namirial';
import { createFourthlineActivities } from './fourthline';
import { createId360Activities } from './id360';
import { Id360Session } from './id360-session';
import { createRetentionActivities } from './retention';
import { DEFAULT_RETENTION_MS } from '../config/personal-data';

export interface ActivityDeps {
  config: Pick<AppConfig, 'vendors' | 'publicBaseUrl' | 'webhookSecret'> & Partial<Pick<AppConfig, 'personalData'>>;
  store: EvidenceStore;
  /** ID360's login session, one per worker process (built here unless a test brings its own). */
  id360Session?: Id360Session;
}

export function createActivities({ config, store: shared, id360Session }: ActivityDeps) {
  const id360 = config.vendors.id360;
  // What an activity stores is claimed by the workflow that runs it (retention and erasure act on claims).
  const store = ownedByCallingWorkflow(shared);
  return {
    ...createFinwaveActivities({
      config: config.vendors.finwave,
      store,
      publicBaseUrl: config.publicBaseUrl,
      webhookSecret: config.webhookSecret,
    }),
    ...createAuthenteqActivities({ config: config.vendors.authenteq, store, webhookSecret: config.webhookSecret }),
    ...createNamirialActivities({
      config: config.vendors.namirial,
      store,
      publicBaseUrl: config.publicBaseUrl,
      webhookSecret: config.webhookSecret,
    }),
    ...createFourthlineActivities({ config: config.vendors.fourthline, store }),
    ...createRetentionActivities({
      store: shared,
      rules: config.personalData?.retention ?? [{ pattern: '*', ms: DEFAULT_RETENTION_MS }],
    }),
    ...createId360Activities({
      config: id360,
      store,
      session:
        id360Session ??
        new Id360Session({ baseUrl: id360.baseUrl, username: id360.username, password: id360.password }),
      publicBaseUrl: config.publicBaseUrl,
      webhookSecret: config.webhookSecret,
    }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
