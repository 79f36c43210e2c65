/**
 * Namirial's config type, a leaf: its contract (./namirial.ts) builds it, its activities read it. Types
 * only, so that Namirial's code below the registry never imports the registry (nor config/index.ts) for it.
 */
import type { VendorEndpoint } from './contract';

export interface NamirialConfig extends VendorEndpoint {
  apiToken: string;
  /** The enrollment Profile, e.g. `Bit4Id::SPIDOnly::<Customer>`. */
  profile: string;
}
