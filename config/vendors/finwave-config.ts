/**
 * Finwave's config type, a leaf: its contract (./finwave.ts) builds it, its activities read it. Types only,
 * so that Finwave's code below the registry never imports the registry (nor config/index.ts) for it.
 */
import type { VendorEndpoint } from './contract';

export interface FinwaveConfig extends VendorEndpoint {
  clientToken: string;
}
