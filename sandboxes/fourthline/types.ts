/** The Fourthline sandbox's state: cases, signatures, the scenarios they play and the sandbox's options. */
import {
  FOURTHLINE_MAX_RESENDS,
  FOURTHLINE_WINDOWS,
  type FourthlineCaseStatus,
  type FourthlineSignatureStatus,
} from '../../activities/fourthline/api';
import type { WebhookOptions } from '../framework/webhooks';

export const FOURTHLINE_SCENARIOS = [
  'completed',
  'pending-match',
  'pending-mismatch',
  'invalid-data',
  'inconsistent-data',
  'risk-500',
  'selfie-required',
  'recoverable-error',
  'unrecoverable-error',
  'infocert',
] as const;
export type FourthlineScenario = (typeof FOURTHLINE_SCENARIOS)[number];

export type CaseStatus = FourthlineCaseStatus;
export type SignatureStatus = FourthlineSignatureStatus;

/** The vendor's clocks (activities/fourthline/api.ts) and the passcode resend quota. */
export const FOURTHLINE_CLOCKS = { ...FOURTHLINE_WINDOWS, maxResends: FOURTHLINE_MAX_RESENDS } as const;

export const LEGAL_CONDITIONS = [
  { id: 'qtsp-terms', version: '3.2', title: 'QTSP terms and conditions' },
  { id: 'qtsp-privacy', version: '1.4', title: 'QTSP privacy notice' },
] as const;

export interface FourthlineCase {
  verificationId: string;
  clientId: string;
  clientReference: string;
  flow: 'completed' | 'pending';
  status: CaseStatus;
  riskScore: number | null;
  statusCode: string | null;
  scenario: FourthlineScenario;
  identityData: Record<string, unknown> | null;
  identityFiles: number;
  processingStarted: boolean;
  completeAt: number | null;
  updatedAt: number;
}

export interface FourthlineSignature {
  signatureId: string;
  verificationId: string;
  attempt: number;
  status: SignatureStatus;
  statusCode: string | null;
  documents: { documentId: string; name: string; bytes: Buffer }[];
  mobileNumber: string | null;
  consentRequiredAt: number | null;
  confirmationRequiredAt: number | null;
  selfieRequiredAt: number | null;
  passcode: string | null;
  passcodeSentAt: number | null;
  resends: number;
  approvals: number;
  confirmations: number;
  recoverAt: number | null;
  previousStatus: SignatureStatus | null;
  /** Every vendor API call on this signature, for tests ("the vendor was not called"). */
  calls: { at: string; op: string; status: number }[];
}

export type WebhookAuth =
  | { mode: 'basic'; username: string; password: string }
  | { mode: 'oauth'; tokenUrl: string; clientId: string; clientSecret: string };

export interface FourthlineSandboxOptions {
  clientId: string;
  clientSecret: string;
  /** Webhook URLs registered with Fourthline; the instance id is appended. */
  caseWebhookUrl: string;
  signatureWebhookUrl: string;
  webhookAuth: WebhookAuth;
  webhooks?: WebhookOptions;
  /** How long case processing takes (the completed flow) before the case turns completed. */
  processingMs?: number;
  /** How long a recoverable error lasts before the status returns to the previous one (null: until the control says so). */
  recoverAfterMs?: number | null;
}
