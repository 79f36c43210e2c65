/**
 * One Fourthline case's state, as one object the case workflow, its handlers and its signature
 * attempts share: the normalized verification, the case view the API shows, the absolute deadline,
 * and the reads of the case at Fourthline. Everything here is carried across continue-as-new.
 */
import { condition } from '@temporalio/workflow';
import type { FourthlineCaseStatus, FourthlineCaseSummary } from '../activities/fourthline';
import { restartWith } from './shared';
import { Verification } from './verification';
import {
  FOURTHLINE_VENDOR,
  fourthlineEligible,
  type FourthlineCaseCarry,
  type FourthlineCaseInput,
  type FourthlineCaseView,
  type RunningAttempt,
} from './fourthline-messages';
import { fl } from './fourthline-vendor';
import { VendorOutage } from './vendor-outage';
import { ms, waitSummary } from './time';

export const IDV_AND_QES = restartWith('create a new verification that includes IDV and QES (a new reference)');
export const SIGNATURE_ONLY = restartWith(
  'the signature attempts are used up: create a new verification (a new reference)',
);

export class FourthlineCaseRun {
  readonly v: Verification;
  readonly view: FourthlineCaseView;
  /** Epoch ms: every phase of the case and of its attempts ends by then. */
  readonly deadlineAt: number;
  readonly outage: VendorOutage;
  cddStored: boolean;
  /** A case webhook came: read the case. */
  caseNudged = false;
  identityBusy = false;
  /** Polls of the case in this run (continue-as-new after `pollsPerRun`). */
  polls = 0;
  /** The signature attempt whose child runs (none across continue-as-new: the case continues only before signing). */
  running: RunningAttempt | null = null;

  constructor(readonly input: FourthlineCaseInput) {
    const c = input.carried;
    this.v = new Verification(FOURTHLINE_VENDOR, input.id, input.reference, c?.state);
    this.view = c?.view ?? {
      stage: 'creating',
      flow: input.options.flow,
      verificationId: null,
      clientId: null,
      caseStatus: null,
      riskScore: null,
      current: null,
      attempts: [],
      consent: [],
    };
    this.deadlineAt = c?.deadlineAt ?? Date.now() + ms(input.options.caseDeadline);
    this.cddStored = c?.cddStored ?? false;
    // A webhook that came as the run continued as new still wakes the next run's first read.
    this.caseNudged = c?.nudged ?? false;
    this.outage = new VendorOutage('Fourthline', this.v, c?.outageSince ?? null);
  }

  get o() {
    return this.input.options;
  }

  carry(): FourthlineCaseCarry {
    return {
      state: this.v.state,
      view: this.view,
      deadlineAt: this.deadlineAt,
      cddStored: this.cddStored,
      outageSince: this.outage.since,
      nudged: this.caseNudged,
    };
  }

  /** (A method, so that TypeScript does not narrow the status across awaits.) */
  caseIs(status: FourthlineCaseStatus): boolean {
    return this.view.caseStatus === status;
  }

  applyCase(c: FourthlineCaseSummary, event: string): void {
    const changed = c.status !== this.view.caseStatus || c.riskScore !== this.view.riskScore;
    this.view.caseStatus = c.status;
    this.view.riskScore = c.riskScore;
    this.v.setFacts({ caseStatus: c.status, riskScore: c.riskScore, caseStatusCode: c.statusCode });
    if (changed) this.v.note(event, `case ${c.status}${c.riskScore !== null ? ` (risk score ${c.riskScore})` : ''}`);
  }

  async storeCdd(): Promise<void> {
    if (this.cddStored || this.view.caseStatus !== 'completed') return;
    const ref = await fl.fourthlineDownloadCddReport({ verificationId: this.view.verificationId! });
    this.cddStored = true;
    this.v.addEvidence(ref);
    this.v.note('evidence stored', `CDD report ${ref.sha256.slice(0, 12)} (${ref.size} bytes)`);
  }

  /**
   * Waits for a webhook or `interval` (default: the poll interval), then GETs the case (a vendor
   * outage is noted, not fatal). False when the deadline ran out.
   */
  async readCase(interval = ms(this.o.pollInterval)): Promise<boolean> {
    const left = this.deadlineAt - Date.now();
    if (left <= 0) return false;
    const wait = Math.min(interval, left);
    const summary = waitSummary(
      `Fourthline case · ${this.view.caseStatus ?? 'case'}: waiting for a webhook or the next read`,
      Date.now() + wait,
      this.deadlineAt,
    );
    const woken = await condition(
      () => this.caseNudged || this.v.cancelRequested !== null || this.v.ended,
      wait,
      summary,
    );
    if (this.v.cancelRequested !== null || this.v.ended) return true;
    // A webhook that came with the poll timer (one activation) still counts as the reason for the read.
    const afterWebhook = woken || this.caseNudged;
    this.caseNudged = false;
    this.polls++;
    const c = await this.outage.read(() => fl.fourthlineGetCase({ verificationId: this.view.verificationId! }));
    if (c) this.applyCase(c, afterWebhook ? 'case read after webhook' : 'case read by polling');
    return true;
  }

  /** Ends the verification for a case status that needs a new IDV + QES workflow. True when it did. */
  endOnCaseFailure(): boolean {
    const { v, view } = this;
    if (view.caseStatus === 'invalid_data' || view.caseStatus === 'inconsistent_data') {
      v.finish(
        'completed',
        'rejected',
        `Fourthline found ${view.caseStatus === 'invalid_data' ? 'invalid or missing' : 'inconsistent'} data (case ${view.caseStatus})`,
        {
          providerStatus: view.caseStatus,
          nextAction: IDV_AND_QES,
        },
      );
      return true;
    }
    if (
      view.caseStatus === 'completed' &&
      !fourthlineEligible({ status: 'completed', riskScore: view.riskScore }, this.o.flow)
    ) {
      v.finish(
        'completed',
        'rejected',
        `not eligible for a qualified signature: risk score ${view.riskScore} (kyc_required)`,
        {
          providerStatus: 'kyc_required',
          nextAction: IDV_AND_QES,
        },
      );
      return true;
    }
    return false;
  }

  /** Ends the verification at the case deadline, whatever the phase. */
  expire(phase: string): void {
    this.v.finish(
      'expired',
      'expired',
      `the case deadline (${String(this.o.caseDeadline)}) passed ${phase}${this.outage.suffix()}`,
      { nextAction: IDV_AND_QES },
    );
  }
}
