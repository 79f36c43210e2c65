/**
 * ID360's config type, a leaf: its contract (./id360.ts) builds it, its activities read it. Types only,
 * so that ID360's code below the registry never imports the registry (nor config/index.ts) for it.
 */
import type { VendorEndpoint } from './contract';

export interface Id360Config extends VendorEndpoint {
  /** Host root; the API is under `/api/1.0.0`, the user's pages under `/static/process_ui/`. */
  baseUrl: string;
  /** The application's login (never leaves the worker; the 15-minute token it buys never leaves the session). */
  username: string;
  password: string;
  /** The process (parcours) every enrollment is created on. */
  processId: string;
}
