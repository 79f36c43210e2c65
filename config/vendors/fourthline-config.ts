/**
 * Fourthline's config types, a leaf: its contract (./fourthline.ts) builds them, its activities and webhook
 * receivers read them. Types only, so that Fourthline's code below the registry never imports the
 * registry (nor config/index.ts) for them.
 */
import type { VendorEndpoint } from './contract';

/** The credentials we give Fourthline for its webhooks to our receiver. */
export type FourthlineWebhookAuth =
  { mode: 'basic'; username: string; password: string } | { mode: 'oauth'; clientId: string; clientSecret: string };

export interface FourthlineConfig extends VendorEndpoint {
  /** The API key: client id + client secret, exchanged for a 1-hour access token. */
  clientId: string;
  clientSecret: string;
  tokenPath: string;
  webhookAuth: FourthlineWebhookAuth;
}
