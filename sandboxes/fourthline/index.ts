/**
 * Fourthline sandbox: the French solution (identity verification case + qualified electronic
 * signature) of ../shared/vendor-docs/fourthline-french-idv-qes.txt, served under `/fourthline`
 * (API base `<sandbox>/fourthline`).
 *
 * Vendor API. The doc names the operations but not their paths: every path and body shape below is
 * an assumption, kept here and in activities/fourthline.ts.
 * | POST /oauth2/token {grant_type, client_id, client_secret}  | access token, valid 1 hour (expires_in 3600)                 |
 * | POST /v1/workflows {workflowName, clientReference, verificationId?} | 201 {workflowId, clientId}; case + signature `new` |
 * | PUT  /v1/verifications/:id/identity-data {person, address, emailAndPhone} | 204; a second call replaces the first   |
 * | POST /v1/verifications/:id/identity-files {files[]}          | 204; case -> pending | invalid_data                          |
 * | POST /v1/verifications/:id/processing                         | 204; case -> inconsistent_data | completed (riskScore)      |
 * | GET  /v1/verifications/:id                                    | {verificationId, clientId, status, riskScore, statusCode}  |
 * | GET  /v1/verifications/:id/cdd-report                         | CDD report ZIP once completed                              |
 * | POST /v1/signatures/:id/documents {documents[]}               | 204; status stays pending                                  |
 * | PUT  /v1/signatures/:id/mobile-number {mobileNumber}          | 204; -> user_consent_required | selfie_required | kyc_required | error |
 * | GET  /v1/signatures/:id?language=fr                           | details: documents, legal conditions + versions, passcode details |
 * | POST /v1/signatures/:id/approval {documentIds, legalConditions[], language?} | {attemptId}; -> confirmation_required, passcode SMS sent |
 * | POST /v1/signatures/:id/confirmation {passcode}               | {attemptId}; -> signed | pending_verification | invalid_signature | kyc_required | error |
 * | POST /v1/signatures/:id/passcode/resend                       | 204; at most 4 times                                       |
 * | POST /v1/signatures/:id/selfie {contentBase64}                | 204; selfie_required -> user_consent_required              |
 * | GET  /v1/signatures/:id/status                                | {signatureId, status, statusCode}                          |
 * | GET  /v1/signatures/:id/documents/:documentId                 | the signed PDF once signed                                 |
 * | GET  /v1/signatures/:id/infocert-contract                     | 200 contract PDF (InfoCert) or 204 (Namirial) once signed  |
 * Auth: `Authorization: Bearer <access_token>`; missing or expired answers 401. Business-rule
 * failures (windows, wrong state, wrong passcode, resend limit) answer 422 `{code, message}`;
 * unknown ids 404; malformed bodies 400.
 *
 * Workflow names (assumption): `french-idv-qes` (completed-verification flow), `french-idv-qes-pending`
 * (pending-verification flow), `french-qes` (signature only, on the existing case `verificationId`).
 * The workflowId is both the verificationId and the signatureId; a signature-only workflow has its
 * own id and points at the case it signs for.
 *
 * The vendor's clocks (on the sandbox clock, which `/_sandbox/clock` moves forward): approval more
 * than 2 h after user_consent_required -> 422; confirmation more than 1 h after confirmation_required
 * -> 422; passcode valid 2 h; after 24 h an unfinished signature (user_consent_required,
 * confirmation_required, selfie_required) turns to `error`.
 *
 * Webhooks: on every case and signature status change, a thin `{verificationId|signatureId, status,
 * timestamp}` POSTed to `<caseWebhookUrl>/<verificationId>` or `<signatureWebhookUrl>/<signatureId>`,
 * authenticated with HTTP Basic or with an OAuth client-credentials bearer token obtained from the
 * receiver's token URL (form post, client id/secret in HTTP Basic), retried with backoff.
 *
 * Scenarios, per applicant, chosen by the tag of the email in identity data (`anyone+<scenario>@...`):
 *   completed (default) · pending-match · pending-mismatch (pending flow endings) · invalid-data ·
 *   inconsistent-data · risk-500 (kyc_required) · selfie-required · recoverable-error ·
 *   unrecoverable-error · infocert (contract 200 instead of 204). Signature scenarios play on the
 *   first signature attempt only, so that a signature-only retry can succeed. A wrong passcode is any
 *   other code than the one sent (422 INVALID_PASSCODE).
 *
 * Control surface (never part of Fourthline's API): see the `/_sandbox` routes at the end and
 * sandboxes/README.md.
 */
import crypto from 'node:crypto';
import got from 'got';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { FaultInjector, registerFaults } from '../framework/faults';
import { Ledger, registerLedger } from '../framework/ledger';
import { WebhookDispatcher, type WebhookOptions } from '../framework/webhooks';
import { zip } from '../framework/zip';

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

export type CaseStatus = 'new' | 'pending' | 'invalid_data' | 'inconsistent_data' | 'completed';
export type SignatureStatus =
  | 'new'
  | 'pending'
  | 'user_consent_required'
  | 'selfie_required'
  | 'kyc_required'
  | 'confirmation_required'
  | 'signed'
  | 'pending_verification'
  | 'invalid_signature'
  | 'error';

const HOUR = 3_600_000;
export const FOURTHLINE_CLOCKS = {
  tokenTtlMs: HOUR,
  approvalWindowMs: 2 * HOUR,
  confirmationWindowMs: HOUR,
  passcodeValidityMs: 2 * HOUR,
  errorAfterMs: 24 * HOUR,
  selfieWindowMs: 24 * HOUR,
  maxResends: 4,
} as const;

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

export class FourthlineSandbox {
  readonly cases = new Map<string, FourthlineCase>();
  readonly signatures = new Map<string, FourthlineSignature>();
  readonly faults = new FaultInjector();
  /** Side effects applied (framework/ledger.ts): workflows created, uploads, approvals, SMS, confirmations. */
  readonly ledger = new Ledger();
  readonly webhooks: WebhookDispatcher;
  readonly tokens = new Map<string, number>();
  /** How many access tokens were issued (tests: concurrent activities share one). */
  tokensIssued = 0;
  webhooksEnabled = true;
  processingMs: number;
  recoverAfterMs: number | null;
  webhookAuth: WebhookAuth;
  /** The vendor clock: real time plus what `/_sandbox/clock` added. */
  offsetMs = 0;
  private oauth: { token: string; until: number } | null = null;
  private pending = new Set<Promise<unknown>>();
  private ticker: NodeJS.Timeout;

  constructor(readonly options: FourthlineSandboxOptions) {
    this.webhooks = new WebhookDispatcher(options.webhooks);
    // `webhookFirst` fault: every create already notifies (case `new`, signature status); the answer waits for that delivery.
    this.faults.webhookFirst = async (_req, since, maxMs) => {
      await this.webhooks.attemptedSince(since, maxMs);
    };
    this.processingMs = options.processingMs ?? 2000;
    this.recoverAfterMs = options.recoverAfterMs === undefined ? 3000 : options.recoverAfterMs;
    this.webhookAuth = options.webhookAuth;
    this.ticker = setInterval(() => this.tick(), 100).unref();
  }

  now(): number {
    return Date.now() + this.offsetMs;
  }

  advance(ms: number): void {
    this.offsetMs += ms;
    this.tick();
  }

  issueToken(): { access_token: string; token_type: 'Bearer'; expires_in: number } {
    const token = crypto.randomBytes(24).toString('base64url');
    this.tokens.set(token, this.now() + FOURTHLINE_CLOCKS.tokenTtlMs);
    this.tokensIssued++;
    return { access_token: token, token_type: 'Bearer', expires_in: FOURTHLINE_CLOCKS.tokenTtlMs / 1000 };
  }

  tokenValid(token: string): boolean {
    const until = this.tokens.get(token);
    return until !== undefined && until > this.now();
  }

  expireTokens(): void {
    for (const t of this.tokens.keys()) this.tokens.set(t, 0);
  }

  createWorkflow(
    workflowName: string,
    clientReference: string,
    verificationId?: string,
  ): { workflowId: string; clientId: string } | string {
    const workflowId = crypto.randomUUID();
    if (workflowName === 'french-qes') {
      const c = verificationId ? this.cases.get(verificationId) : undefined;
      if (!c) return 'verificationId: no such case for a signature-only workflow';
      const attempt = [...this.signatures.values()].filter((s) => s.verificationId === c.verificationId).length + 1;
      const s = this.newSignature(workflowId, c.verificationId, attempt);
      this.ledger.record('workflow-created', workflowId, clientReference);
      this.checkEligibility(c, s);
      return { workflowId, clientId: c.clientId };
    }
    const c: FourthlineCase = {
      verificationId: workflowId,
      clientId: crypto.randomUUID(),
      clientReference,
      flow: workflowName === 'french-idv-qes-pending' ? 'pending' : 'completed',
      status: 'new',
      riskScore: null,
      statusCode: null,
      scenario: 'completed',
      identityData: null,
      identityFiles: 0,
      processingStarted: false,
      completeAt: null,
      updatedAt: this.now(),
    };
    this.cases.set(workflowId, c);
    this.ledger.record('workflow-created', workflowId, clientReference);
    this.newSignature(workflowId, workflowId, 1);
    this.notifyCase(c);
    return { workflowId, clientId: c.clientId };
  }

  private newSignature(signatureId: string, verificationId: string, attempt: number): FourthlineSignature {
    const s: FourthlineSignature = {
      signatureId,
      verificationId,
      attempt,
      status: 'new',
      statusCode: null,
      documents: [],
      mobileNumber: null,
      consentRequiredAt: null,
      confirmationRequiredAt: null,
      selfieRequiredAt: null,
      passcode: null,
      passcodeSentAt: null,
      resends: 0,
      approvals: 0,
      confirmations: 0,
      recoverAt: null,
      previousStatus: null,
      calls: [],
    };
    this.signatures.set(signatureId, s);
    this.notifySignature(s);
    return s;
  }

  setIdentityData(c: FourthlineCase, data: Record<string, unknown>): void {
    c.identityData = data;
    this.ledger.record('identity-data', c.verificationId, c.verificationId);
    const email = String((data.emailAndPhone as { email?: unknown } | undefined)?.email ?? '');
    const tag = /\+([a-z0-9-]+)@/.exec(email)?.[1];
    c.scenario = (FOURTHLINE_SCENARIOS as readonly string[]).includes(tag ?? '')
      ? (tag as FourthlineScenario)
      : 'completed';
    c.updatedAt = this.now();
  }

  uploadIdentityFiles(c: FourthlineCase, count: number): void {
    c.identityFiles += count;
    this.ledger.record('identity-files', c.verificationId, c.verificationId);
    this.setCase(
      c,
      c.scenario === 'invalid-data' ? 'invalid_data' : 'pending',
      c.scenario === 'invalid-data' ? 'MISSING_ID_BACK' : null,
    );
    if (c.status === 'pending' && c.flow === 'pending')
      for (const s of this.signaturesOf(c)) this.checkEligibility(c, s);
  }

  startProcessing(c: FourthlineCase): void {
    c.processingStarted = true;
    this.ledger.record('processing-started', c.verificationId, c.verificationId);
    // The pending flow: processing (manual review, say) finishes once the client has signed.
    if (c.flow === 'completed' || c.scenario === 'inconsistent-data') c.completeAt = this.now() + this.processingMs;
  }

  completeCase(c: FourthlineCase): void {
    c.completeAt = null;
    if (c.status !== 'pending') return;
    if (c.scenario === 'inconsistent-data') {
      this.setCase(c, 'inconsistent_data', 'DOCUMENT_DATA_MISMATCH');
      return;
    }
    c.riskScore = c.scenario === 'risk-500' ? 500 : 200;
    this.setCase(c, 'completed', null);
    for (const s of this.signaturesOf(c)) {
      if (s.status === 'new') this.checkEligibility(c, s);
      else if (s.status === 'pending_verification') {
        if (c.riskScore === 500) this.setSignature(s, 'kyc_required', 'RISK_SCORE_UNACCEPTABLE');
        else if (c.scenario === 'pending-mismatch' && s.attempt === 1)
          this.setSignature(s, 'invalid_signature', 'CERTIFICATE_DETAILS_MISMATCH');
        else this.setSignature(s, 'signed', 'COUNTERSIGNED');
      }
    }
  }

  /** The doc's eligibility table: completed 200-400 (both flows), or new/pending (pending flow). */
  checkEligibility(c: FourthlineCase, s: FourthlineSignature): void {
    if (s.status !== 'new') return;
    if (c.status === 'completed') {
      if (c.riskScore !== null && c.riskScore >= 200 && c.riskScore <= 400) this.setSignature(s, 'pending', null);
      else this.setSignature(s, 'kyc_required', 'RISK_SCORE_UNACCEPTABLE');
    } else if (c.flow === 'pending' && c.status === 'pending') {
      this.setSignature(s, 'pending', null);
    } else if (c.status === 'invalid_data' || c.status === 'inconsistent_data') {
      this.setSignature(s, 'kyc_required', 'CASE_NOT_ELIGIBLE');
    }
  }

  uploadMobile(s: FourthlineSignature, mobileNumber: string): void {
    const c = this.cases.get(s.verificationId)!;
    s.mobileNumber = mobileNumber;
    this.ledger.record('mobile-number', s.signatureId, s.signatureId);
    if (c.scenario === 'selfie-required' && s.attempt === 1) {
      s.selfieRequiredAt = this.now();
      this.setSignature(s, 'selfie_required', 'DEVICE_CHANGED');
    } else {
      s.consentRequiredAt = this.now();
      this.setSignature(s, 'user_consent_required', null);
    }
  }

  uploadSelfie(s: FourthlineSignature): void {
    this.ledger.record('selfie', s.signatureId, s.signatureId);
    s.consentRequiredAt = this.now();
    this.setSignature(s, 'user_consent_required', null);
  }

  approve(s: FourthlineSignature): string {
    const c = this.cases.get(s.verificationId)!;
    s.approvals++;
    this.ledger.record('approval', s.signatureId);
    const attemptId = crypto.randomUUID();
    if (c.scenario === 'recoverable-error' && s.attempt === 1 && s.approvals === 1) {
      s.previousStatus = 'user_consent_required';
      s.recoverAt = this.recoverAfterMs === null ? null : this.now() + this.recoverAfterMs;
      this.setSignature(s, 'error', 'QTSP_TEMPORARILY_UNAVAILABLE');
    } else if (c.scenario === 'unrecoverable-error' && s.attempt === 1) {
      this.setSignature(s, 'error', 'QTSP_CERTIFICATE_FAILED');
    } else {
      s.confirmationRequiredAt = this.now();
      this.sendPasscode(s);
      this.setSignature(s, 'confirmation_required', null);
    }
    return attemptId;
  }

  sendPasscode(s: FourthlineSignature): void {
    s.passcode = String(crypto.randomInt(0, 1_000_000)).padStart(6, '0');
    this.ledger.record('sms-sent', s.signatureId);
    s.passcodeSentAt = this.now();
  }

  confirm(s: FourthlineSignature): string {
    const c = this.cases.get(s.verificationId)!;
    s.confirmations++;
    this.ledger.record('confirmation', s.signatureId, s.signatureId);
    if (c.status === 'completed') this.setSignature(s, 'signed', null);
    else {
      this.setSignature(s, 'pending_verification', null);
      if (c.processingStarted) c.completeAt = this.now() + this.processingMs;
    }
    return crypto.randomUUID();
  }

  recover(s: FourthlineSignature): boolean {
    if (s.status !== 'error' || !s.previousStatus) return false;
    const back = s.previousStatus;
    s.previousStatus = null;
    s.recoverAt = null;
    this.setSignature(s, back, null);
    return true;
  }

  /** The vendor's clocks, applied lazily and by a ticker (so that moving the clock takes effect). */
  tick(): void {
    const now = this.now();
    for (const c of this.cases.values()) if (c.completeAt !== null && c.completeAt <= now) this.completeCase(c);
    for (const s of this.signatures.values()) {
      if (s.status === 'error' && s.recoverAt !== null && s.recoverAt <= now) this.recover(s);
      const since =
        s.status === 'user_consent_required'
          ? s.consentRequiredAt
          : s.status === 'confirmation_required'
            ? s.confirmationRequiredAt
            : s.status === 'selfie_required'
              ? s.selfieRequiredAt
              : null;
      if (since !== null && now - since >= FOURTHLINE_CLOCKS.errorAfterMs) {
        this.setSignature(s, 'error', s.status === 'selfie_required' ? 'SELFIE_NOT_UPLOADED' : 'SIGNATURE_EXPIRED');
      }
    }
  }

  signaturesOf(c: FourthlineCase): FourthlineSignature[] {
    return [...this.signatures.values()].filter((s) => s.verificationId === c.verificationId);
  }

  signedPdf(s: FourthlineSignature, documentId: string): Buffer | null {
    const d = s.documents.find((x) => x.documentId === documentId);
    if (!d) return null;
    return Buffer.concat([
      d.bytes,
      Buffer.from(`\n%% Signed by the QTSP for signature ${s.signatureId} (sandbox)\n%%EOF\n`),
    ]);
  }

  cddReport(c: FourthlineCase): Buffer {
    return zip([
      {
        name: `${c.verificationId}/cdd-report.json`,
        data: Buffer.from(
          JSON.stringify({ verificationId: c.verificationId, status: c.status, riskScore: c.riskScore }),
        ),
      },
      { name: `${c.verificationId}/id-document.jpg`, data: FAKE_JPEG },
    ]);
  }

  stop(): void {
    clearInterval(this.ticker);
    this.webhooks.stop();
  }

  async drain(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
    await this.webhooks.drain();
  }

  setCase(c: FourthlineCase, status: CaseStatus, code: string | null): void {
    c.status = status;
    c.statusCode = code;
    c.updatedAt = this.now();
    this.notifyCase(c);
  }

  setSignature(s: FourthlineSignature, status: SignatureStatus, code: string | null): void {
    s.status = status;
    s.statusCode = code;
    this.notifySignature(s);
  }

  notifyCase(c: FourthlineCase, status: string = c.status): void {
    if (!this.webhooksEnabled) return;
    this.deliver(
      `${this.options.caseWebhookUrl}/${c.verificationId}`,
      { verificationId: c.verificationId, status, timestamp: new Date(this.now()).toISOString() },
      c.verificationId,
    );
  }

  notifySignature(s: FourthlineSignature, status: string = s.status): void {
    if (!this.webhooksEnabled) return;
    this.deliver(
      `${this.options.signatureWebhookUrl}/${s.signatureId}`,
      { signatureId: s.signatureId, status, timestamp: new Date(this.now()).toISOString() },
      s.signatureId,
    );
  }

  private deliver(url: string, body: Record<string, unknown>, tag: string): void {
    const p = this.authHeader()
      .then((authorization) =>
        this.webhooks.send(url, body, { event: String(body.status), tag, headers: { authorization } }),
      )
      .catch(() =>
        this.webhooks.log.push({
          at: new Date().toISOString(),
          url,
          event: String(body.status),
          tag,
          attempt: 0,
          status: null,
          error: 'no OAuth token from the receiver',
        }),
      )
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  /** How Fourthline authenticates to our receiver: HTTP Basic, or a bearer token from our token URL. */
  private async authHeader(): Promise<string> {
    const a = this.webhookAuth;
    if (a.mode === 'basic') return `Basic ${Buffer.from(`${a.username}:${a.password}`).toString('base64')}`;
    if (this.oauth && this.oauth.until > Date.now() + 5000) return `Bearer ${this.oauth.token}`;
    const res = await got.post(a.tokenUrl, {
      form: { grant_type: 'client_credentials' },
      headers: {
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(a.clientId)}:${encodeURIComponent(a.clientSecret)}`).toString('base64')}`,
      },
      responseType: 'json',
      throwHttpErrors: false,
      retry: { limit: 0 },
      timeout: { request: 10_000 },
    });
    const b = res.body as { access_token?: string; expires_in?: number };
    if (res.statusCode !== 200 || !b.access_token) {
      // Fourthline still sends the notification; the receiver will refuse it.
      return 'Bearer none';
    }
    this.oauth = { token: b.access_token, until: Date.now() + (b.expires_in ?? 300) * 1000 };
    return `Bearer ${b.access_token}`;
  }
}

// The smallest well-formed JPEG header + end marker: stands in for ID document photos.
const FAKE_JPEG = Buffer.from('ffd8ffe000104a46494600010100000100010000ffd9', 'hex');

function vendorError(reply: FastifyReply, status: number, code: string, message: string) {
  return reply.code(status).send({ code, message });
}

// A search for one bad character, not /^[…]+$/ over the whole (megabytes) string: no backtracking stack.
const b64 = z
  .string()
  .min(1)
  .refine((s) => !/[^A-Za-z0-9+/=]/.test(s), 'must be base64');
const createWorkflowBody = z.object({
  workflowName: z.enum(['french-idv-qes', 'french-idv-qes-pending', 'french-qes']),
  clientReference: z.string().min(1).max(200),
  verificationId: z.string().optional(),
});
const identityDataBody = z.object({
  person: z
    .object({ firstName: z.string().min(1), lastName: z.string().min(1), birthDate: z.string().optional() })
    .passthrough(),
  address: z
    .object({
      street: z.string().optional(),
      city: z.string().min(1),
      postalCode: z.string().optional(),
      countryCode: z.string().length(3),
    })
    .passthrough(),
  emailAndPhone: z.object({ email: z.string().email(), phone: z.string().optional() }).passthrough(),
});
const identityFilesBody = z.object({
  files: z.array(z.object({ type: z.string().min(1), contentType: z.string().optional(), contentBase64: b64 })).min(1),
});
const documentsBody = z.object({
  documents: z
    .array(z.object({ name: z.string().min(1).max(200), contentBase64: b64 }))
    .min(1)
    .max(10),
});
const mobileBody = z.object({ mobileNumber: z.string().regex(/^\+\d{8,15}$/, 'must be E.164') });
const approvalBody = z.object({
  documentIds: z.array(z.string()).min(1),
  legalConditions: z.array(z.object({ id: z.string(), version: z.string() })).min(1),
  language: z.string().optional(),
});
const confirmationBody = z.object({ passcode: z.string().min(1).max(12) });
const selfieBody = z.object({ contentBase64: b64 });

export function registerFourthlineSandbox(app: FastifyInstance, sandbox: FourthlineSandbox): void {
  registerFaults(app, sandbox.faults);
  registerLedger(app, sandbox.ledger);
  // Fourthline's token endpoint takes a form post (OAuth 2 client credentials); JSON works too.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(String(body))));
  });

  const auth = async (req: FastifyRequest, reply: FastifyReply) => {
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    if (!m || !sandbox.tokenValid(m[1]!))
      return vendorError(reply, 401, 'UNAUTHORIZED', 'missing or expired access token');
  };
  const parse = <T>(schema: z.ZodType<T>, req: FastifyRequest, reply: FastifyReply): T | undefined => {
    const p = schema.safeParse(req.body ?? {});
    if (p.success) return p.data;
    const i = p.error.issues[0]!;
    void vendorError(reply, 400, 'BAD_REQUEST', `${i.path.join('.') || 'body'}: ${i.message}`);
    return undefined;
  };
  const findCase = (req: FastifyRequest, reply: FastifyReply) => {
    const c = sandbox.cases.get((req.params as { id: string }).id);
    if (!c) void vendorError(reply, 404, 'NOT_FOUND', 'verification not found');
    return c;
  };
  const findSig = (req: FastifyRequest, reply: FastifyReply, op: string) => {
    const s = sandbox.signatures.get((req.params as { id: string }).id);
    if (!s) void vendorError(reply, 404, 'NOT_FOUND', 'signature not found');
    else {
      sandbox.tick();
      const call = { at: new Date(sandbox.now()).toISOString(), op, status: 0 };
      s.calls.push(call);
      reply.raw.once('finish', () => (call.status = reply.statusCode));
    }
    return s;
  };
  const unprocessable = (reply: FastifyReply, code: string, message: string) => vendorError(reply, 422, code, message);

  app.post('/oauth2/token', async (req, reply) => {
    const body = (req.body ?? {}) as Record<string, string | undefined>;
    let id = body.client_id;
    let secret = body.client_secret;
    const basic = /^Basic (\S+)$/.exec(req.headers.authorization ?? '');
    if (basic) [id, secret] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':');
    if (body.grant_type !== 'client_credentials') return reply.code(400).send({ error: 'unsupported_grant_type' });
    if (id !== sandbox.options.clientId || secret !== sandbox.options.clientSecret)
      return reply.code(401).send({ error: 'invalid_client' });
    return sandbox.issueToken();
  });

  app.post('/v1/workflows', { preHandler: auth }, async (req, reply) => {
    const body = parse(createWorkflowBody, req, reply);
    if (!body) return;
    const created = sandbox.createWorkflow(body.workflowName, body.clientReference, body.verificationId);
    if (typeof created === 'string') return unprocessable(reply, 'INVALID_VERIFICATION', created);
    return reply.code(201).send(created);
  });

  // ---- Identity verification case ----
  app.put('/v1/verifications/:id/identity-data', { preHandler: auth }, async (req, reply) => {
    const c = findCase(req, reply);
    if (!c) return;
    const body = parse(identityDataBody, req, reply);
    if (!body) return;
    if (c.status !== 'new')
      return unprocessable(
        reply,
        'INVALID_STATUS',
        `identity data can be changed while the case is new, not ${c.status}`,
      );
    sandbox.setIdentityData(c, body);
    return reply.code(204).send();
  });
  app.post('/v1/verifications/:id/identity-files', { preHandler: auth }, async (req, reply) => {
    const c = findCase(req, reply);
    if (!c) return;
    const body = parse(identityFilesBody, req, reply);
    if (!body) return;
    if (!c.identityData) return unprocessable(reply, 'IDENTITY_DATA_MISSING', 'upload identity data first');
    if (c.status !== 'new')
      return unprocessable(reply, 'INVALID_STATUS', `files are uploaded while the case is new, not ${c.status}`);
    sandbox.uploadIdentityFiles(c, body.files.length);
    return reply.code(204).send();
  });
  app.post('/v1/verifications/:id/processing', { preHandler: auth }, async (req, reply) => {
    const c = findCase(req, reply);
    if (!c) return;
    if (c.status !== 'pending')
      return unprocessable(reply, 'INVALID_STATUS', `processing starts from pending, not ${c.status}`);
    if (!c.processingStarted) sandbox.startProcessing(c);
    return reply.code(204).send();
  });
  app.get('/v1/verifications/:id', { preHandler: auth }, async (req, reply) => {
    sandbox.tick();
    const c = findCase(req, reply);
    if (!c) return;
    return {
      verificationId: c.verificationId,
      clientId: c.clientId,
      clientReference: c.clientReference,
      status: c.status,
      riskScore: c.riskScore,
      statusCode: c.statusCode,
      updatedAt: new Date(c.updatedAt).toISOString(),
    };
  });
  app.get('/v1/verifications/:id/cdd-report', { preHandler: auth }, async (req, reply) => {
    const c = findCase(req, reply);
    if (!c) return;
    if (c.status !== 'completed')
      return unprocessable(reply, 'CASE_NOT_COMPLETED', 'the CDD report exists once the case is completed');
    return reply
      .type('application/zip')
      .header('content-disposition', `attachment; filename="cdd-${c.verificationId}.zip"`)
      .send(sandbox.cddReport(c));
  });

  // ---- Qualified electronic signature ----
  app.post('/v1/signatures/:id/documents', { preHandler: auth }, async (req, reply) => {
    const s = findSig(req, reply, 'uploadDocuments');
    if (!s) return;
    const body = parse(documentsBody, req, reply);
    if (!body) return;
    if (s.status !== 'pending')
      return unprocessable(
        reply,
        'INVALID_STATUS',
        `documents are uploaded while the signature is pending, not ${s.status}`,
      );
    s.documents = body.documents.map((d, i) => ({
      documentId: `doc-${i + 1}`,
      name: d.name,
      bytes: Buffer.from(d.contentBase64, 'base64'),
    }));
    sandbox.ledger.record('documents-uploaded', s.signatureId, s.signatureId);
    return reply.code(204).send();
  });
  app.put('/v1/signatures/:id/mobile-number', { preHandler: auth }, async (req, reply) => {
    const s = findSig(req, reply, 'uploadMobileNumber');
    if (!s) return;
    const body = parse(mobileBody, req, reply);
    if (!body) return;
    if (s.status !== 'pending')
      return unprocessable(
        reply,
        'INVALID_STATUS',
        `the mobile number is uploaded while the signature is pending, not ${s.status}`,
      );
    if (!s.documents.length) return unprocessable(reply, 'DOCUMENTS_MISSING', 'upload the documents to sign first');
    sandbox.uploadMobile(s, body.mobileNumber);
    return reply.code(204).send();
  });
  app.get('/v1/signatures/:id', { preHandler: auth }, async (req, reply) => {
    const s = findSig(req, reply, 'getDetails');
    if (!s) return;
    const c = sandbox.cases.get(s.verificationId)!;
    const language = (req.query as { language?: string }).language ?? 'fr';
    return {
      signatureId: s.signatureId,
      verificationId: s.verificationId,
      clientId: c.clientId,
      status: s.status,
      mobileNumber: s.mobileNumber,
      documents: s.documents.map((d) => ({ documentId: d.documentId, name: d.name, size: d.bytes.length })),
      legalConditions: LEGAL_CONDITIONS.map((l) => ({
        ...l,
        language,
        url: `https://sandbox.fourthline.invalid/legal/${l.id}/${l.version}/${language}`,
      })),
      passcode: {
        length: 6,
        validitySeconds: FOURTHLINE_CLOCKS.passcodeValidityMs / 1000,
        sentAt: s.passcodeSentAt ? new Date(s.passcodeSentAt).toISOString() : null,
        resendsLeft: FOURTHLINE_CLOCKS.maxResends - s.resends,
      },
    };
  });
  app.post('/v1/signatures/:id/approval', { preHandler: auth }, async (req, reply) => {
    const s = findSig(req, reply, 'approve');
    if (!s) return;
    const body = parse(approvalBody, req, reply);
    if (!body) return;
    if (s.status !== 'user_consent_required')
      return unprocessable(reply, 'INVALID_STATUS', `approval needs user_consent_required, not ${s.status}`);
    if (sandbox.now() - s.consentRequiredAt! > FOURTHLINE_CLOCKS.approvalWindowMs)
      return unprocessable(reply, 'APPROVAL_EXPIRED', 'the 2 hour approval window has expired');
    const docs = new Set(body.documentIds);
    if (s.documents.some((d) => !docs.has(d.documentId)))
      return unprocessable(reply, 'DOCUMENTS_NOT_APPROVED', 'every document to sign must be approved');
    const accepted = new Set(body.legalConditions.map((l) => `${l.id}@${l.version}`));
    if (LEGAL_CONDITIONS.some((l) => !accepted.has(`${l.id}@${l.version}`)))
      return unprocessable(reply, 'LEGAL_CONDITIONS_NOT_ACCEPTED', 'the current legal conditions must be accepted');
    return { attemptId: sandbox.approve(s) };
  });
  app.post('/v1/signatures/:id/confirmation', { preHandler: auth }, async (req, reply) => {
    const s = findSig(req, reply, 'confirm');
    if (!s) return;
    const body = parse(confirmationBody, req, reply);
    if (!body) return;
    if (s.status !== 'confirmation_required')
      return unprocessable(reply, 'INVALID_STATUS', `confirmation needs confirmation_required, not ${s.status}`);
    const now = sandbox.now();
    if (now - s.confirmationRequiredAt! > FOURTHLINE_CLOCKS.confirmationWindowMs)
      return unprocessable(reply, 'CONFIRMATION_EXPIRED', 'the 1 hour confirmation window has expired');
    if (now - s.passcodeSentAt! > FOURTHLINE_CLOCKS.passcodeValidityMs)
      return unprocessable(reply, 'PASSCODE_EXPIRED', 'the passcode has expired');
    if (body.passcode !== s.passcode) return unprocessable(reply, 'INVALID_PASSCODE', 'the passcode is not valid');
    return { attemptId: sandbox.confirm(s) };
  });
  app.post('/v1/signatures/:id/passcode/resend', { preHandler: auth }, async (req, reply) => {
    const s = findSig(req, reply, 'resendPasscode');
    if (!s) return;
    if (s.status !== 'confirmation_required')
      return unprocessable(reply, 'INVALID_STATUS', `a passcode is resent in confirmation_required, not ${s.status}`);
    if (s.resends >= FOURTHLINE_CLOCKS.maxResends)
      return unprocessable(reply, 'RESEND_LIMIT_REACHED', 'the passcode can be resent at most 4 times');
    s.resends++;
    sandbox.sendPasscode(s);
    return reply.code(204).send();
  });
  app.post('/v1/signatures/:id/selfie', { preHandler: auth }, async (req, reply) => {
    const s = findSig(req, reply, 'uploadSelfie');
    if (!s) return;
    const body = parse(selfieBody, req, reply);
    if (!body) return;
    if (s.status !== 'selfie_required')
      return unprocessable(reply, 'INVALID_STATUS', `a selfie is uploaded in selfie_required, not ${s.status}`);
    sandbox.uploadSelfie(s);
    return reply.code(204).send();
  });
  app.get('/v1/signatures/:id/status', { preHandler: auth }, async (req, reply) => {
    const s = findSig(req, reply, 'getStatus');
    if (!s) return;
    return { signatureId: s.signatureId, status: s.status, statusCode: s.statusCode };
  });
  app.get('/v1/signatures/:id/documents/:documentId', { preHandler: auth }, async (req, reply) => {
    const s = findSig(req, reply, 'getSignedDocument');
    if (!s) return;
    if (s.status !== 'signed')
      return unprocessable(reply, 'NOT_SIGNED', 'signed documents exist once the signature is signed');
    const pdf = sandbox.signedPdf(s, (req.params as { documentId: string }).documentId);
    if (!pdf) return vendorError(reply, 404, 'NOT_FOUND', 'document not found');
    return reply.type('application/pdf').send(pdf);
  });
  app.get('/v1/signatures/:id/infocert-contract', { preHandler: auth }, async (req, reply) => {
    const s = findSig(req, reply, 'getInfoCertContract');
    if (!s) return;
    if (s.status !== 'signed')
      return unprocessable(reply, 'NOT_SIGNED', 'the contract exists once the signature is signed');
    const c = sandbox.cases.get(s.verificationId)!;
    if (c.scenario !== 'infocert') return reply.code(204).send();
    return reply
      .type('application/pdf')
      .send(Buffer.from(`%PDF-1.4\n%% InfoCert contract for ${s.signatureId} (sandbox)\n%%EOF\n`));
  });

  // ---- Control surface: plays the end user and the vendor's back office. ----
  app.post('/_sandbox/clock', async (req, reply) => {
    const p = z
      .object({
        advanceMs: z
          .number()
          .int()
          .min(0)
          .max(30 * 24 * HOUR),
      })
      .safeParse(req.body);
    if (!p.success)
      return reply.code(400).send({ error: { code: 'invalid_clock', message: 'body: { "advanceMs": <ms> }' } });
    sandbox.advance(p.data.advanceMs);
    return { now: new Date(sandbox.now()).toISOString(), offsetMs: sandbox.offsetMs };
  });
  app.post('/_sandbox/tokens/expire', async () => {
    sandbox.expireTokens();
    return { expired: sandbox.tokens.size };
  });
  app.get('/_sandbox/verifications/:id', async (req, reply) => {
    const c = findCase(req, reply);
    if (!c) return;
    return {
      verificationId: c.verificationId,
      flow: c.flow,
      status: c.status,
      riskScore: c.riskScore,
      scenario: c.scenario,
      signatures: sandbox.signaturesOf(c).map((s) => s.signatureId),
      webhookDeliveries: sandbox.webhooks.log.filter((d) => d.tag === c.verificationId),
    };
  });
  app.post('/_sandbox/verifications/:id/complete', async (req, reply) => {
    const c = findCase(req, reply);
    if (!c) return;
    if (c.status !== 'pending')
      return reply.code(409).send({ error: { code: 'invalid_transition', message: `the case is ${c.status}` } });
    sandbox.completeCase(c);
    return { verificationId: c.verificationId, status: c.status };
  });
  const findSigControl = (req: FastifyRequest, reply: FastifyReply) => {
    const s = sandbox.signatures.get((req.params as { id: string }).id);
    if (!s) void reply.code(404).send({ error: { code: 'not_found', message: 'signature not found' } });
    return s;
  };
  app.get('/_sandbox/signatures/:id', async (req, reply) => {
    const s = findSigControl(req, reply);
    if (!s) return;
    return {
      signatureId: s.signatureId,
      verificationId: s.verificationId,
      attempt: s.attempt,
      status: s.status,
      statusCode: s.statusCode,
      resends: s.resends,
      approvals: s.approvals,
      confirmations: s.confirmations,
      calls: s.calls,
      webhookDeliveries: sandbox.webhooks.log.filter((d) => d.tag === s.signatureId),
    };
  });
  /** The client's phone: the passcode SMS. */
  app.get('/_sandbox/signatures/:id/sms', async (req, reply) => {
    const s = findSigControl(req, reply);
    if (!s) return;
    if (!s.passcode) return reply.code(404).send({ error: { code: 'no_sms', message: 'no passcode sent yet' } });
    return { passcode: s.passcode, sentAt: new Date(s.passcodeSentAt!).toISOString(), resends: s.resends };
  });
  app.post('/_sandbox/signatures/:id/recover', async (req, reply) => {
    const s = findSigControl(req, reply);
    if (!s) return;
    if (!sandbox.recover(s))
      return reply
        .code(409)
        .send({ error: { code: 'invalid_transition', message: `nothing to recover from in ${s.status}` } });
    return { signatureId: s.signatureId, status: s.status };
  });
  app.post('/_sandbox/signatures/:id/webhook', async (req, reply) => {
    const s = findSigControl(req, reply);
    if (!s) return;
    const p = z
      .object({ status: z.string().optional(), times: z.number().int().min(1).max(20).default(1) })
      .safeParse(req.body ?? {});
    if (!p.success)
      return reply.code(400).send({ error: { code: 'invalid_webhook', message: p.error.issues[0]!.message } });
    for (let i = 0; i < p.data.times; i++) sandbox.notifySignature(s, p.data.status);
    return { signatureId: s.signatureId, status: s.status };
  });
  app.post('/_sandbox/settings', async (req, reply) => {
    const p = z
      .object({
        webhooks: z.enum(['on', 'off']).optional(),
        processingMs: z.number().int().min(0).max(600_000).optional(),
        recoverAfterMs: z.number().int().min(0).max(600_000).nullable().optional(),
      })
      .safeParse(req.body ?? {});
    if (!p.success)
      return reply.code(400).send({ error: { code: 'invalid_settings', message: p.error.issues[0]!.message } });
    if (p.data.webhooks) sandbox.webhooksEnabled = p.data.webhooks === 'on';
    if (p.data.processingMs !== undefined) sandbox.processingMs = p.data.processingMs;
    if (p.data.recoverAfterMs !== undefined) sandbox.recoverAfterMs = p.data.recoverAfterMs;
    return {
      webhooks: sandbox.webhooksEnabled ? 'on' : 'off',
      processingMs: sandbox.processingMs,
      recoverAfterMs: sandbox.recoverAfterMs,
    };
  });
}

/** The webhook settings Fourthline would hold for a service at `publicBaseUrl` using these credentials. */
export function fourthlineWebhookSettings(
  publicBaseUrl: string,
  auth:
    { mode: 'basic'; username: string; password: string } | { mode: 'oauth'; clientId: string; clientSecret: string },
): Pick<FourthlineSandboxOptions, 'caseWebhookUrl' | 'signatureWebhookUrl' | 'webhookAuth'> {
  return {
    caseWebhookUrl: `${publicBaseUrl}/webhooks/fourthline/cases`,
    signatureWebhookUrl: `${publicBaseUrl}/webhooks/fourthline/signatures`,
    webhookAuth:
      auth.mode === 'basic' ? auth : { ...auth, tokenUrl: `${publicBaseUrl}/webhooks/fourthline/oauth/token` },
  };
}
