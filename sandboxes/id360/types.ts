/** The ID360 sandbox's state: enrollments, login-token statistics, the sample identity document, options. */
import { ID360_FINAL_STATUSES, type ID360_VERDICTS, type Id360Status } from '../../activities/id360/api';
import type { WebhookOptions } from '../framework/webhooks';

export type { Id360Status };
export const FINAL = ID360_FINAL_STATUSES;
export type Verdict = (typeof ID360_VERDICTS)[number];
/** What the sandbox's document "says": data comparisons are checked against it. */
export const ID360_SAMPLE_IDENTITY = {
  name: 'DUPONT',
  first_name: 'Jean',
  birth_date: '1990-01-01',
  document_number: 'X4RTBPFW4',
};
export const identityOf = (e: { document?: Partial<typeof ID360_SAMPLE_IDENTITY> }) => ({
  ...ID360_SAMPLE_IDENTITY,
  ...e.document,
});

export interface CallbackEndpoint {
  url: string;
  on: string[];
  headers: { name: string; value: string }[];
}

export interface Enrollment {
  id: number;
  apiKey: string;
  processId: string;
  status: Id360Status;
  reason: string | null;
  clientReference: string | null;
  browserCallbackUrl: string;
  callbackEndpoints: CallbackEndpoint[];
  callbackHeaders: Record<string, string>;
  /** Informational applicant fields (never checked, as the doc says). */
  applicant: Record<string, string>;
  creationTime: number;
  startingTime: number | null;
  finishedTime: number | null;
  routeId: number;
  selectedRoute: number | null;
  consent: { cgu: boolean; biometry: boolean };
  comparisons: Record<string, { value: string; locked: boolean }>;
  totalPages: number | null;
  pages: Record<number, { format: string; size: number }>;
  selfie: { format: string; size: number } | null;
  finalized: boolean;
  /** How many times the enrollment was read (GET /enrollment/{id}/): polling, seen from the vendor's side. */
  reads: number;
  scenario: { status: Verdict; reason: string | null; lateStarted: boolean };
  /** What the user's identity document says (default: the sample document); data comparisons are checked against it. */
  document?: Partial<typeof ID360_SAMPLE_IDENTITY>;
  timers: NodeJS.Timeout[];
}

export interface Id360SandboxOptions {
  username: string;
  password: string;
  processId: string;
  /** The sandbox's own public base URL, e.g. http://127.0.0.1:8090 */
  publicUrl: string;
  /** The vendor's clock for tokens and timestamps; a test injects a fake one to play hours in milliseconds. */
  now?: () => number;
  tokenLifetimeMs?: number;
  enrollmentLifetimeMs?: number;
  /** Finalize -> verdict. */
  processingDelayMs?: number;
  webhooks?: WebhookOptions;
}

export interface Id360Stats {
  logins: number;
  failedLogins: number;
  whoami: number;
  /** Calls authenticated by a login token (whoami included). */
  tokenCalls: number;
  /** Calls authenticated by an enrollment api_key. */
  apiKeyCalls: number;
  /** 401 answers. */
  unauthorized: number;
  /** Every vendor API call (control paths excluded). */
  total: number;
}

export const emptyStats = (): Id360Stats => ({
  logins: 0,
  failedLogins: 0,
  whoami: 0,
  tokenCalls: 0,
  apiKeyCalls: 0,
  unauthorized: 0,
  total: 0,
});
