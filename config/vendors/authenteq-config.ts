/**
 * Authenteq's config type, a leaf: its contract (./authenteq.ts) builds it, its activities read it. Types
 * only, so that Authenteq's code below the registry never imports the registry (nor config/index.ts) for it.
 */
import type { VendorEndpoint } from './contract';

export interface AuthenteqConfig extends VendorEndpoint {
  /** Basic auth credentials of the Customer Dashboard. The secret never leaves the worker. */
  clientId: string;
  clientSecret: string;
  /** The redirect URL registered with Authenteq: our `/return/authenteq` receiver. */
  redirectUrl: string;
}
