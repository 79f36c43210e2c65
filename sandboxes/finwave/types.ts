/** The Finwave sandbox's state: onboardings, the scenarios a user plays, the sandbox's options. */
import type { FinwaveStatus } from '../../activities/finwave/api';
import type { WebhookOptions } from '../framework/webhooks';

export type Status = FinwaveStatus;
export const FINWAVE_SCENARIOS = [
  'approved',
  'low-score',
  'ocr-failed',
  'biometry-failed',
  'acceptation-declined',
] as const;
export type Scenario = (typeof FINWAVE_SCENARIOS)[number];

export interface Onboarding {
  onboardingId: string;
  customId: string;
  webhook: string;
  phoneStep: boolean;
  acceptations: { mandatory: boolean; text: string }[];
  status: Status;
  scenario: Scenario | null;
  /** The user's identity as their document shows it (default: the sandbox's sample document). */
  person: { name?: string; documentNumber?: string } | null;
  errorEvent: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  logs: { timestamp: number; code: string; description: string }[];
  timer: NodeJS.Timeout | null;
}

export interface FinwaveSandboxOptions {
  clientToken: string;
  /** The sandbox's own public base URL (for the user URL it hands out), e.g. http://127.0.0.1:8090 */
  publicUrl: string;
  sessionTimeoutMs?: number;
  webhooks?: WebhookOptions;
  /** Delay before a test-number scenario plays itself. */
  autoPlayDelayMs?: number;
}
