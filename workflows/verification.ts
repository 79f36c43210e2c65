/**
 * The bookkeeping every vendor workflow shares: the normalized state, its timeline, the status
 * search attributes, and the handlers for the common messages (state query, cancel, nextAction).
 * A vendor workflow creates one `Verification` first thing and then reads as its vendor's state
 * machine: `v.progress(...)` for each step, `v.finish(...)` once, its body run through
 * `v.runToEnd(...)` (cancel, vendor failure, handlers drained, continue-as-new: written once here).
 */
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import {
  auditSignal,
  RESTART_WITH_NEW_REFERENCE,
  cancelUpdate,
  nextActionUpdate,
  SEARCH_ATTRIBUTES,
  STATE_MEMO_KEY,
  stateForMemo,
  type PublishedState,
  stateQuery,
  TERMINAL_STATUSES,
  type AuditActor,
  type EvidenceRef,
  type NextAction,
  type Provider,
  type VerificationOutcome,
  type VerificationState,
  type VerificationStatus,
  type UpdateArg,
} from './shared';
import { eventData, Notifier } from './notifier';
import { operatorDetails } from './operator-details';
import type { EventType } from './notify-shared';

/** The reason of a verification cancelled from Temporal itself (the Web UI's Cancel, `temporal workflow cancel`). */
export const NATIVE_CANCEL_REASON = 'cancelled from Temporal (Web UI or CLI)';

/** How a vendor flow's run ends, beyond what every flow does (Verification.runToEnd). */
export interface RunEnd<C> {
  /** nextAction after a vendor failure (default: restart with a new reference). */
  nextAction?: NextAction;
  /** After a native cancel, before the verification ends `cancelled` (e.g. settle a child). */
  onCancel?: () => Promise<void>;
  /** A vendor call failed for good: extra bookkeeping before the verification ends `failed/error`. */
  onVendorFailure?: (cause: ApplicationFailure | undefined) => void | Promise<void>;
  /** Runs once the body settled, whatever happened (e.g. let go of a vendor session); `continuing` when the run continues as new. */
  release?: (continuing: boolean) => Promise<void>;
  /** Continues as new with what the body answered (`continueAsNew<typeof flow>({ ...input, carried })`). */
  continueAsNew?: (carry: C) => Promise<never>;
}

export class Verification {
  readonly state: VerificationState;
  /** Set by the cancel update; vendor workflows race it against their waits. */
  cancelRequested: string | null = null;
  /**
   * Extra read models a vendor workflow publishes next to the state (memo key -> current value),
   * e.g. a case view with its child workflows, so that its read routes work without a worker too. Plain JSON only.
   */
  memoExtras: (() => Record<string, unknown>) | null = null;
  /** The last memo published (as JSON): to publish on change only. */
  private published: string | null = null;
  /** A publish is queued for the end of this activation (changed()). */
  private publishQueued = false;
  /** Notifications to the integrator's endpoints (workflows/notifier.ts); null when the API did not ask for them. */
  private readonly notifier = Notifier.fromMemo();
  private notifiedAction: string | null = null;

  /**
   * `vendor`: the vendor's name and label (its workflow module's `<VENDOR>_VENDOR`); `carried`: the state a
   * previous run handed over through continue-as-new (its search attributes carry over too).
   */
  constructor(
    private readonly vendor: { name: Provider; label: string },
    id: string,
    reference: string,
    carried?: VerificationState,
  ) {
    const now = new Date().toISOString();
    this.state = carried ?? {
      id,
      provider: vendor.name,
      reference,
      status: 'created',
      outcome: null,
      providerStatus: null,
      providerReference: null,
      reason: null,
      nextAction: { type: 'wait', reason: 'opening the vendor session' },
      facts: {},
      evidence: [],
      timeline: [{ at: now, event: 'created', status: 'created', providerStatus: null }],
      audit: [],
      createdAt: now,
      updatedAt: now,
    };
    if (!carried) {
      upsertSearchAttributes([
        { key: SEARCH_ATTRIBUTES.provider, value: vendor.name },
        { key: SEARCH_ATTRIBUTES.status, value: 'created' },
      ]);
    }

    setHandler(stateQuery, () => this.state);
    this.showOperators();
    // Appended by the API after each step it drove; accepted after the end too (an erasure, say),
    // as long as the workflow is open to receive it.
    setHandler(auditSignal, (entry) => {
      this.audit(entry.event, entry.actor, entry.detail, entry.at);
      if (entry.event === 'personal data erased') {
        const artifacts = typeof entry.detail.artifacts === 'number' ? entry.detail.artifacts : 0;
        this.note('personal data erased', `${artifacts} artifact(s)`);
        this.notify('verification.personal_data_erased');
      }
    });
    setHandler(
      nextActionUpdate,
      async ({ maxWaitMs }) => {
        await condition(() => this.state.status !== 'created', maxWaitMs);
        return this.state;
      },
      { validator: ({ maxWaitMs }: UpdateArg<typeof nextActionUpdate>) => assertWait(maxWaitMs) },
    );
    setHandler(
      cancelUpdate,
      async ({ reason, actor }) => {
        const why = reason ?? 'cancelled by the caller';
        this.cancelRequested = why;
        this.note('cancel requested', why);
        this.audit('cancel requested', actor ?? null, { reason: why });
        // The flow ends at its next step; a vendor call under retry can delay that, so the caller
        // gets the state after at most 10 s either way (the cancel stays requested).
        await condition(() => this.ended, '10 seconds', { summary: 'cancel: waiting up to 10 s for the flow to end' });
        return this.state;
      },
      {
        validator: (_request: { reason?: string }) => {
          if (this.ended)
            throw new Error(
              `the verification has already ended as ${this.state.status}${this.state.outcome ? `/${this.state.outcome}` : ''}`,
            );
        },
      },
    );
    this.notify('verification.created');
  }

  get ended(): boolean {
    return TERMINAL_STATUSES.includes(this.state.status);
  }

  /**
   * Record something that happened without changing the status (e.g. a webhook arrived). A repeat of
   * the last entry (a vendor's duplicated webhook) adds nothing: the history keeps every signal, and
   * a flood of duplicates neither grows the state nor republishes the memo.
   */
  note(event: string, detail?: string): void {
    const last = this.state.timeline[this.state.timeline.length - 1];
    const repeat =
      last &&
      last.event === event &&
      last.detail === detail &&
      last.status === this.state.status &&
      last.providerStatus === this.state.providerStatus;
    if (repeat) return;
    this.push(event, detail);
  }

  /** Move to a non-terminal status. Ignored once the flow has ended. */
  progress(
    status: Exclude<VerificationStatus, 'completed' | 'failed' | 'expired' | 'cancelled'>,
    event: string,
    change: { providerStatus?: string | null; nextAction?: NextAction; detail?: string } = {},
  ): void {
    if (this.ended) return;
    const moved = this.state.status !== status;
    this.state.status = status;
    if (change.providerStatus !== undefined) this.state.providerStatus = change.providerStatus;
    if (change.nextAction) this.state.nextAction = change.nextAction;
    this.push(event, change.detail);
    if (moved) upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.status, value: status }]);
    this.showOperators();
  }

  /**
   * End the flow. Only the first call counts. A cancel accepted before this final decision wins: the
   * flow ends `cancelled` (with whatever evidence it gathered), never approved after a 200 cancel.
   */
  finish(
    status: 'completed' | 'failed' | 'expired' | 'cancelled',
    outcome: VerificationOutcome | null,
    reason: string,
    change: { providerStatus?: string | null; nextAction?: NextAction } = {},
  ): void {
    if (this.ended) return;
    if (this.cancelRequested !== null && status !== 'cancelled') {
      this.note('decision overridden by the cancel', outcome ? `${status}: ${outcome}` : status);
      return this.finish('cancelled', null, this.cancelRequested, { providerStatus: change.providerStatus });
    }
    this.state.status = status;
    this.state.outcome = outcome;
    this.state.reason = reason;
    if (change.providerStatus !== undefined) this.state.providerStatus = change.providerStatus;
    this.state.nextAction = change.nextAction ?? { type: 'none' };
    this.push(outcome ? `${status}: ${outcome}` : status, reason);
    upsertSearchAttributes([
      { key: SEARCH_ATTRIBUTES.status, value: status },
      { key: SEARCH_ATTRIBUTES.outcome, value: outcome ?? 'none' },
    ]);
    this.showOperators();
    this.notify('verification.completed');
  }

  /**
   * What the Web UI's workflow page shows as "Current details" (Temporal user metadata; not a
   * command, so free for replay): the vendor, what the flow waits for, the window's end. From the
   * status, the vendor's status word and nextAction only: no personal data, no URL (a vendor link
   * can be a bearer credential).
   */
  showOperators(): void {
    setCurrentDetails(operatorDetails(this.state, this.vendor.label));
  }

  /**
   * Publishes the state in the workflow's memo (encrypted by the payload codec, decoded by
   * `describe()`), so the API can answer an open verification while no worker runs
   * (client/read-model.ts). Queued by every change the API shows (changed()) and published when the
   * memo differs from the last one, so the API reads a verification waiting on its timers from the memo.
   * A vendor workflow may call it after a change that does not go through changed() (`force`: a new
   * attempt in its own view). Never per poll that changed nothing: each publish is one event in history.
   * Bounded (see stateForMemo): the last timeline entries, no audit trail.
   */
  publish(force = false): void {
    const memo: PublishedState = { ...stateForMemo(this.state), memoCurrent: true };
    const key = JSON.stringify(memo);
    if (!force && key === this.published) return;
    this.published = key;
    upsertMemo({ [STATE_MEMO_KEY]: memo, ...(this.memoExtras?.() ?? {}) });
  }

  /**
   * Something the API shows changed: publish once this activation's synchronous work is done (a
   * microtask, still inside the activation), so that several changes make one upsert.
   */
  private changed(): void {
    if (this.publishQueued) return;
    this.publishQueued = true;
    void Promise.resolve().then(() => {
      this.publishQueued = false;
      this.publish();
    });
  }

  /**
   * A vendor call that failed for good (rejected, invalid response, retries exhausted) ends the
   * verification with outcome `error`, the failure's message as the reason (it names the vendor,
   * the operation, the HTTP status and the vendor's code, never personal data) and its type in the
   * facts, visible in the API and the Web UI. Anything else is a bug: rethrown, so the workflow task
   * fails and is retried once the code is fixed. Returns the vendor failure for extra bookkeeping.
   */
  endOnVendorFailure(
    err: unknown,
    nextAction: NextAction = RESTART_WITH_NEW_REFERENCE,
  ): ApplicationFailure | undefined {
    if (!(err instanceof ActivityFailure)) throw err;
    const cause = vendorCause(err);
    if (this.ended) return cause;
    const d = (cause?.details?.[0] ?? {}) as { httpStatus?: number; vendorCode?: string | null };
    this.finish('failed', 'error', cause?.message ?? err.message, { nextAction });
    this.setFacts({
      failureType: cause?.type ?? err.cause?.name ?? 'ActivityFailure',
      httpStatus: d.httpStatus ?? null,
      vendorCode: d.vendorCode ?? null,
    });
    return cause;
  }

  /**
   * Runs a vendor flow's body to its end, the lifecycle every vendor workflow shares:
   * - a native cancel (Web UI, `temporal workflow cancel`) ends the verification `cancelled` with its
   *   search attributes (after `end.onCancel`, out of the cancelled scope);
   * - a vendor failure ends it through `endOnVendorFailure` (after `end.onVendorFailure`); any other
   *   error is a bug and is rethrown, so the workflow task fails until the code is fixed;
   * - `end.release` runs whatever happened (out of the cancelled scope), told whether the flow goes on;
   * - every handler still running (an upload, a cancel) finishes, a cancel accepted meanwhile ends the
   *   verification `cancelled`;
   * - when the body answered something (what to carry) and the verification is still open, the run
   *   continues as new through `end.continueAsNew`, which builds the next run's input then.
   */
  async runToEnd<C>(body: () => Promise<C | undefined>, end: RunEnd<C> = {}): Promise<void> {
    let carry: C | undefined;
    try {
      carry = await body();
    } catch (err) {
      if (isCancellation(err)) {
        if (end.onCancel) await CancellationScope.nonCancellable(end.onCancel);
        this.finish('cancelled', null, this.cancelRequested ?? NATIVE_CANCEL_REASON);
      } else {
        if (!(err instanceof ActivityFailure)) throw err;
        if (end.onVendorFailure) await end.onVendorFailure(vendorCause(err));
        this.endOnVendorFailure(err, end.nextAction);
      }
    } finally {
      if (end.release) {
        const release = end.release;
        const continuing = carry !== undefined;
        await CancellationScope.nonCancellable(() => release(continuing));
      }
    }
    await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
    if (!this.ended && this.cancelRequested !== null) this.finish('cancelled', null, this.cancelRequested);
    if (carry !== undefined && !this.ended && end.continueAsNew) await end.continueAsNew(carry);
  }

  /**
   * Flags the case for a person: the Web UI lists them with `VerificationAttention != ""`-style
   * queries (or `= "<code>"`), the API shows `facts.attention`. The code is a fixed word, never data.
   */
  needsAttention(code: string, detail: string): void {
    this.setFacts({ attention: code });
    this.note('needs attention', detail);
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.attention, value: code }]);
    this.notify('verification.attention');
  }

  /** Appends to the audit trail (never rewritten): what the applicant was shown / accepted, who drove a step. */
  audit(event: string, actor: AuditActor | null, detail: Record<string, unknown>, at = new Date().toISOString()): void {
    (this.state.audit ??= []).push({ at, event, actor, detail });
  }

  setProviderReference(ref: string): void {
    this.state.providerReference = ref;
    this.changed();
  }

  addEvidence(ref: EvidenceRef): void {
    if (!this.state.evidence.some((e) => e.ref === ref.ref && e.kind === ref.kind)) this.state.evidence.push(ref);
    this.changed();
  }

  setFacts(facts: Record<string, string | number | boolean | null>): void {
    Object.assign(this.state.facts, facts);
    this.changed();
  }

  private push(event: string, detail?: string): void {
    const at = new Date().toISOString();
    this.state.updatedAt = at;
    this.state.timeline.push({
      at,
      event,
      status: this.state.status,
      providerStatus: this.state.providerStatus,
      ...(detail ? { detail } : {}),
    });
    this.changed();
    // The caller must redirect or act: tell its backend (once per distinct nextAction).
    const action = this.state.nextAction;
    if (
      !this.ended &&
      (action.type === 'redirect' || action.type === 'action') &&
      JSON.stringify(action) !== this.notifiedAction
    ) {
      this.notifiedAction = JSON.stringify(action);
      this.notify('verification.action_required');
    }
  }

  /** Records a notification event (stable id, next sequence number) for the integrator's endpoints. */
  private notify(type: EventType): void {
    if (!this.notifier) return;
    const sequence = (this.state.notificationSequence ?? 0) + 1;
    this.state.notificationSequence = sequence;
    this.notifier.emit(sequence, type, eventData(this.state));
  }
}

/** The vendor's failure inside an activity failure (null when the activity timed out or was cancelled). */
function vendorCause(err: ActivityFailure): ApplicationFailure | undefined {
  return err.cause instanceof ApplicationFailure ? err.cause : undefined;
}

function assertWait(ms: number): void {
  if (!Number.isFinite(ms) || ms < 0 || ms > 60_000) throw new Error('maxWaitMs must be between 0 and 60000');
}
