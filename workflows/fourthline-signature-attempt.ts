/**
 * One signature attempt's state, as one object the attempt workflow and its human steps share: the
 * view the API shows, the clocks behind the windows, what was uploaded, and how the vendor's status
 * maps onto the attempt's phase. The parent case hears of it only when the view changes.
 */
import { getExternalWorkflowHandle } from '@temporalio/workflow';
import type { FourthlineSignatureSummary } from '../activities/fourthline';
import type { EvidenceRef } from './shared';
import {
  attemptReportSignal,
  newAttemptView,
  type AttemptOutcome,
  type AttemptPhase,
  type AttemptView,
  type ConsentRecord,
  type DocumentToSign,
  type FourthlineSignatureInput,
} from './fourthline-messages';
import { asRefusal, refuse, vendorCodeOf } from './fourthline-vendor';
import { noClocks, startClocks, windowsOf, type AttemptClocks } from './fourthline-windows';

export class SignatureAttempt {
  readonly view: AttemptView;
  readonly clocks: AttemptClocks = noClocks();
  documents: DocumentToSign[] | null = null;
  mobileRef: EvidenceRef | null = null;
  readonly evidence: EvidenceRef[] = [];
  /** What the client was shown (signature-details): approve needs it. */
  shown: ConsentRecord | null = null;
  /** A webhook came: read the status. */
  nudged = false;
  /** The case asked the attempt to stop. */
  stop: { reason: string; outcome: AttemptOutcome } | null = null;
  /** Fourthline itself answered that a window has expired (its 422). */
  vendorExpired: string | null = null;
  /** A human step is under way. */
  busy = false;
  /** Bumped by every change, so a read that raced a human step is known to be stale. */
  version = 0;
  /** Epoch ms since reads fail with an outage (null while the vendor answers). */
  unreachableSince: number | null = null;
  private reported = '';

  constructor(
    readonly input: FourthlineSignatureInput,
    workflowId: string,
  ) {
    this.view = newAttemptView(input.attempt, input.signatureId, workflowId);
  }

  get ended(): boolean {
    return this.view.outcome !== null;
  }

  /** Tells the case, when something it shows changed (or with a consent record). The parent may have closed: no consequence. */
  async report(consent?: ConsentRecord): Promise<void> {
    const unreachableSince = this.unreachableSince === null ? null : new Date(this.unreachableSince).toISOString();
    const key = JSON.stringify([this.view, unreachableSince]);
    if (key === this.reported && !consent) return;
    this.reported = key;
    await getExternalWorkflowHandle(this.input.parentId)
      .signal(attemptReportSignal, { view: this.view, unreachableSince, ...(consent ? { consent } : {}) })
      .catch(() => undefined);
  }

  end(outcome: AttemptOutcome, reason: string): void {
    if (this.ended) return;
    Object.assign(this.view, { outcome, reason, phase: 'ended', endedAt: new Date().toISOString() });
    this.version++;
  }

  refreshWindows(): void {
    this.view.windows = windowsOf(this.clocks, this.input.options);
  }

  /** The vendor's status -> the attempt's phase; starts the clocks the doc attaches to a status. */
  apply(s: FourthlineSignatureSummary): void {
    if (this.ended) return;
    const a = this.view;
    startClocks(this.clocks, s.status, Date.now());
    a.providerStatus = s.status;
    const code = s.statusCode ? ` (${s.statusCode})` : '';
    const phases: Record<typeof s.status, AttemptPhase | null> = {
      new: 'awaiting_eligibility',
      pending: this.documents ? 'awaiting_mobile' : 'awaiting_documents',
      user_consent_required: 'awaiting_approval',
      selfie_required: 'awaiting_selfie',
      confirmation_required: 'awaiting_confirmation',
      pending_verification: 'pending_verification',
      error: 'vendor_error',
      signed: 'signed',
      kyc_required: null,
      invalid_signature: null,
    };
    const phase = phases[s.status];
    if (phase) a.phase = phase;
    else if (s.status === 'kyc_required') this.end('kyc_required', `Fourthline answered kyc_required${code}`);
    else this.end('invalid_signature', `the certificate details did not match the completed case${code}`);
    this.refreshWindows();
    this.version++;
    void this.report();
  }

  /** Validator guard: the attempt is open, idle, and in one of `phases`. */
  phaseIs(...phases: AttemptPhase[]): void {
    if (this.ended) throw refuse('wrongState', `this signature attempt has ended (${this.view.outcome})`);
    if (this.busy) throw refuse('wrongState', 'another action on this signature is in progress');
    if (!phases.includes(this.view.phase))
      throw refuse(
        'wrongState',
        `not possible while the signature is ${this.view.providerStatus ?? this.view.phase} (${this.view.phase})`,
      );
  }

  /** Validator guard: the window that closes at `until` is still open. */
  within(until: string | null, what: string): void {
    if (until !== null && Date.now() >= Date.parse(until))
      throw refuse('windowClosed', `${what} has closed (at ${until})`);
  }

  /** Runs a human step: one at a time; a vendor refusal becomes a clear failure of the update. */
  async step<T>(fn: () => Promise<T>): Promise<T> {
    this.busy = true;
    try {
      return await fn();
    } catch (err) {
      const refusal = asRefusal(err);
      const code = vendorCodeOf(refusal);
      if (code === 'APPROVAL_EXPIRED' || code === 'CONFIRMATION_EXPIRED' || code === 'PASSCODE_EXPIRED') {
        this.vendorExpired = `Fourthline answered ${code}: the window has expired at the vendor`;
      }
      throw refusal;
    } finally {
      this.busy = false;
      this.version++;
    }
  }
}
