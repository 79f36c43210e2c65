/**
 * All activities, built over their dependencies: the worker passes the real ones, tests may pass
 * their own (a temporary evidence folder, a sandbox base URL).
 */
import type { AppConfig } from '../config/app-config';
import { vendors as registeredVendors } from '../config/vendors';
import type { VendorContract, VendorRegistry } from '../config/vendors/contract';
import { ownedByCallingWorkflow, type EvidenceStore } from './evidence-store';
import { createRetentionActivities } from './retention';
import { DEFAULT_RETENTION_MS } from '../config/personal-data';

export interface ActivityDeps {
  config: Pick<AppConfig, 'vendors' | 'publicBaseUrl' | 'webhookSecret'> & Partial<Pick<AppConfig, 'personalData'>>;
  store: EvidenceStore;
  /** Whose activities (default: the registry, config/vendors/index.ts); a test adds a toy vendor. */
  vendors?: VendorRegistry;
}

/** Every vendor's activities (its contract's factory over its own config), and evidence retention's. */
export function createActivities({ config, store: shared, vendors = registeredVendors }: ActivityDeps) {
  // What an activity stores is claimed by the workflow that runs it (retention and erasure act on claims).
  const store = ownedByCallingWorkflow(shared);
  const vendorConfigs = config.vendors as Record<string, unknown>;
  const perVendor = Object.values(vendors).map((v: VendorContract) =>
    v.activities({
      config: vendorConfigs[v.name] as never,
      store,
      publicBaseUrl: config.publicBaseUrl,
      webhookSecret: config.webhookSecret,
    }),
  );
  const retention = createRetentionActivities({
    store: shared,
    rules: config.personalData?.retention ?? [{ pattern: '*', ms: DEFAULT_RETENTION_MS }],
  });
  return Object.assign({}, ...perVendor, retention) as Record<string, (...args: never[]) => Promise<unknown>> &
    typeof retention;
}

export type Activities = ReturnType<typeof createActivities>;
