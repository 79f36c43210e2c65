/**
 * The Fourthline sandbox's model: cases and signatures, the transitions the vendor applies to them
 * (the doc's state machine and eligibility table), its clocks and its webhooks. The HTTP surface is in
 * ./routes.ts and ./control.ts.
 */
import crypto from 'node:crypto';
import { FaultInjector } from '../framework/faults';
import { Ledger } from '../framework/ledger';
import { WebhookDispatcher } from '../framework/webhooks';
import { FourthlineNotifier } from './notifier';
import {
  FOURTHLINE_CLOCKS,
  FOURTHLINE_SCENARIOS,
  type CaseStatus,
  type FourthlineCase,
  type FourthlineSandboxOptions,
  type FourthlineScenario,
  type FourthlineSignature,
  type SignatureStatus,
  type WebhookAuth,
} from './types';

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
  private readonly notifier: FourthlineNotifier;
  private ticker: NodeJS.Timeout;

  constructor(readonly options: FourthlineSandboxOptions) {
    this.webhooks = new WebhookDispatcher(options.webhooks);
    this.notifier = new FourthlineNotifier(this.webhooks, () => this.webhookAuth);
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
    const email = (data.emailAndPhone as { email?: unknown } | undefined)?.email;
    const tag = typeof email === 'string' ? /\+([a-z0-9-]+)@/.exec(email)?.[1] : undefined;
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

  stop(): void {
    clearInterval(this.ticker);
    this.webhooks.stop();
  }

  async drain(): Promise<void> {
    await this.notifier.drain();
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
    this.notifier.deliver(
      `${this.options.caseWebhookUrl}/${c.verificationId}`,
      { verificationId: c.verificationId, status, timestamp: new Date(this.now()).toISOString() },
      c.verificationId,
    );
  }

  notifySignature(s: FourthlineSignature, status: string = s.status): void {
    if (!this.webhooksEnabled) return;
    this.notifier.deliver(
      `${this.options.signatureWebhookUrl}/${s.signatureId}`,
      { signatureId: s.signatureId, status, timestamp: new Date(this.now()).toISOString() },
      s.signatureId,
    );
  }
}
