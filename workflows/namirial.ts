/**
 * Namirial VerifID enrollment (../shared/vendor-docs/namirial-verifid-enrollment.txt).
 *
 * Vendor state machine (assumed beyond "New", see activities/namirial.ts):
 *   New -> Started -> Completed (Success) | Failed (<verifidError>) | Expired (RequestIsExpired)
 *
 * 1. Create the enrollment; hand EnrollUrl back as nextAction.
 * 2. Wait for the browser's return on our ReturnUrl, polling every `pollInterval` in case it never
 *    comes, until `deadline`. The return's `verifidResult` / `verifidError` come from the browser, an
 *    untrusted channel: they only prompt a read of the enrollment (then re-reads every
 *    `recheckInterval`, a few times, in case Namirial is a moment behind the browser).
 * 3. Decide only from the State / Outcome read from Namirial (workflows/namirial-outcome.ts). When the
 *    browser said something else, the vendor's word stands and the mismatch is recorded
 *    (facts `returnMismatch`, `browserSaid`, `vendorSaid`, and a timeline entry).
 * 4. At the deadline, one last read; still not ended: expired.
 */
import { condition, continueAsNew, defineSignal, setHandler } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { NamirialActivities, NamirialEnrollmentSummary } from '../activities/namirial';
import { RESTART_WITH_NEW_REFERENCE, type VerificationInputBase, type VerificationState } from './shared';
import { Verification } from './verification';
import { VendorOutage } from './vendor-outage';
import { ms, waitSummary } from './time';
import { recordUnansweredCreates } from './vendor-duplicates';
import { namirialIsFinal } from '../activities/namirial/states';
import { decideNamirialOutcome, type NamirialErrorCode } from './namirial-outcome';
import { vendorActivities } from './activity-queues';
import { runIsFull } from './run-length';

export interface NamirialInput extends VerificationInputBase {
  /** Sent to Namirial (it requires them); never in search attributes, logs, reasons or the timeline. */
  applicant: { firstName: string; lastName: string; email: string };
  options: NamirialOptions;
  /** Set by continue-as-new only: the verification so far and what the wait needs to go on. */
  carried?: {
    state: VerificationState;
    deadlineAt: number;
    enrollmentId: string;
    claim: string | null;
    returns: number;
    outageSince: number | null;
  };
  /** Test-only: continue as new after this many reads (default POLLS_PER_RUN, run-length.ts). */
  pollsPerRun?: number;
}

export interface NamirialOptions {
  /** The enrollment's Language, e.g. "it". */
  language: string;
  /** Where our return receiver sends the browser afterwards; null: a "you can close this window" page. */
  returnTo: string | null;
  /** Overall time before the verification ends as expired. */
  deadline: Duration;
  /** How often to read the enrollment when the browser does not come back. */
  pollInterval: Duration;
  /** After a return, how soon to read again while Namirial has not caught up. */
  recheckInterval: Duration;
}

/**
 * Namirial documents no request lifetime (only the RequestIsExpired code); we assume 24 hours, like
 * the sandbox, and wait one hour more so that Namirial's own expiry is normally what we read.
 */
/** Who this workflow is for the shared tracker (its Web UI summaries) and for config/vendors/namirial.ts. */
export const NAMIRIAL_VENDOR = { name: 'namirial', label: 'Namirial VerifID enrollment' } as const;

export const NAMIRIAL_DEFAULTS = {
  language: 'it',
  deadline: '25 hours',
  pollInterval: '5 minutes',
  recheckInterval: '10 seconds',
} as const;

/** Re-reads after a return while Namirial still says the enrollment is running. */
const RECHECKS_AFTER_RETURN = 6;
/** Returns we act on; a browser reloading the return page more often is ignored (bounded history). */
const MAX_RETURNS = 20;

/** What the browser's query string said, already reduced to known words by the receiver. */
export interface NamirialReturn {
  verifidResult: 'success' | 'error' | 'unrecognized';
  verifidError: NamirialErrorCode | 'unrecognized' | null;
}

export const namirialReturnSignal = defineSignal<[NamirialReturn]>('namirialReturn');

const namirial = vendorActivities<NamirialActivities>('namirial', {
  startToClose: '1 minute',
  scheduleToClose: '1 hour',
});

export async function namirialEnrollment(input: NamirialInput): Promise<VerificationState> {
  const v = new Verification(NAMIRIAL_VENDOR, input.id, input.reference, input.carried?.state);
  const outage = new VendorOutage('Namirial', v, input.carried?.outageSince ?? null);
  await v.runToEnd(() => run(v, input, outage), {
    // The reason names the problem Type and Title, never Details (activities/namirial.ts).
    onVendorFailure: (cause) =>
      v.setFacts({
        problemType: (cause?.details?.[0] as { vendorCode?: string | null } | undefined)?.vendorCode ?? null,
      }),
    continueAsNew: (carry) =>
      continueAsNew<typeof namirialEnrollment>({
        ...input,
        carried: { state: v.state, outageSince: outage.since, ...carry },
      }),
  });
  return v.state;
}

type NamirialCarry = Omit<NonNullable<NamirialInput['carried']>, 'state' | 'outageSince'>;

/** Runs the flow; answers what to carry when this run's history has grown enough to continue as new. */
async function run(v: Verification, input: NamirialInput, outage: VendorOutage): Promise<NamirialCarry | undefined> {
  const { options } = input;
  let nudged = false;
  let returns = input.carried?.returns ?? 0;
  let rechecks = 0;
  /** The browser's latest claim, compared with what Namirial says when we decide. */
  let claim: string | null = input.carried?.claim ?? null;

  setHandler(namirialReturnSignal, (r) => {
    // A hint only: it prompts a fresh read, which decides. Late returns (after the end) and a browser
    // reloading the page beyond MAX_RETURNS are ignored on purpose.
    if (v.ended || ++returns > MAX_RETURNS) return;
    claim = r.verifidResult === 'success' ? 'Success' : (r.verifidError ?? r.verifidResult);
    v.setFacts({ browserSaid: claim });
    v.note(
      'browser returned',
      `verifidResult ${r.verifidResult}${r.verifidError ? `, verifidError ${r.verifidError}` : ''} (to be confirmed with Namirial)`,
    );
    nudged = true;
    rechecks = RECHECKS_AFTER_RETURN;
  });

  let enrollmentId = input.carried?.enrollmentId;
  if (!enrollmentId) {
    const created = await namirial.namirialCreateEnrollment({
      workflowId: input.id,
      returnTo: options.returnTo,
      applicant: input.applicant,
      language: options.language,
    });
    enrollmentId = created.enrollmentId;
    recordUnansweredCreates(v, 'enrollment', created.createsUnanswered);
    v.setProviderReference(created.enrollmentId);
    v.setFacts({ kinds: created.kinds.join(','), identityProvider: created.provider });
    v.progress('awaiting_user', 'enrollment created', {
      providerStatus: created.state,
      nextAction: { type: 'redirect', url: created.enrollUrl },
    });
  }
  const read = () => outage.read(() => namirial.namirialReadEnrollment({ enrollmentId }));

  const deadlineAt = input.carried?.deadlineAt ?? Date.now() + ms(options.deadline);
  let reads = 0;
  while (!v.ended) {
    const remaining = deadlineAt - Date.now();
    if (remaining <= 0) {
      const last = await read();
      if (last) apply(v, last, 'last read at the deadline', claim);
      if (!v.ended) {
        recordClaim(v, claim, `(${v.state.providerStatus ?? 'unknown'})`);
        v.finish(
          'expired',
          'expired',
          `no final state from Namirial within ${String(options.deadline)}${outage.suffix()}`,
          { nextAction: RESTART_WITH_NEW_REFERENCE },
        );
      }
      break;
    }
    if (!nudged && rechecks === 0 && runIsFull(reads, input.pollsPerRun))
      return { deadlineAt, enrollmentId, claim, returns };
    const wait = rechecks > 0 ? options.recheckInterval : options.pollInterval;
    const sleepFor = Math.min(ms(wait), remaining);
    const what =
      rechecks > 0
        ? 'Namirial enrollment · re-checking the status after a return'
        : 'Namirial enrollment · waiting for a callback, a return or the next poll';
    const woken = await condition(
      () => nudged || v.cancelRequested !== null,
      sleepFor,
      waitSummary(what, Date.now() + sleepFor, deadlineAt),
    );
    if (v.cancelRequested !== null) {
      v.finish('cancelled', null, v.cancelRequested);
      break;
    }
    if (!woken && Date.now() >= deadlineAt) continue; // the deadline branch above reads one last time
    const event = woken
      ? 'enrollment read after the return'
      : rechecks > 0
        ? 'enrollment re-read after the return'
        : 'enrollment read by polling';
    if (!woken && rechecks > 0) rechecks--;
    nudged = false;
    reads++;
    // An outage shorter than the deadline never ends the flow: the next slot reads again.
    const r = await read();
    if (!r) continue;
    apply(v, r, event, claim);
    if (!v.ended && claim !== null && woken) {
      v.note('return not confirmed yet', `the browser said ${claim}, Namirial says ${r.state}`);
    }
  }
  return undefined;
}

function apply(v: Verification, e: NamirialEnrollmentSummary, event: string, claim: string | null): void {
  if (e.resultRef) v.addEvidence(e.resultRef);
  if (!namirialIsFinal(e.state, e.outcome)) {
    // A poll that finds nothing new leaves no trace (a day of polling would bury the timeline).
    if (e.state !== v.state.providerStatus) v.progress('awaiting_user', event, { providerStatus: e.state });
    return;
  }
  v.setFacts({ namirialState: e.state, namirialOutcome: e.outcome });
  recordClaim(v, claim, e.outcome ?? `(${e.state})`);
  const d = decideNamirialOutcome(e.state, e.outcome);
  v.progress('processing', event, { providerStatus: e.state });
  v.finish(d.status, d.outcome, d.reason, {
    providerStatus: e.state,
    ...(d.outcome === 'approved' ? {} : { nextAction: RESTART_WITH_NEW_REFERENCE }),
  });
}

/** When the browser claimed an ending, whether Namirial agrees; a disagreement is recorded, the vendor's word stands. */
function recordClaim(v: Verification, claim: string | null, vendorSaid: string): void {
  if (claim === null) return;
  const mismatch = claim !== vendorSaid;
  v.setFacts({ returnMismatch: mismatch, vendorSaid });
  if (mismatch)
    v.note(
      'return contradicted by Namirial',
      `the browser said ${claim}, Namirial says ${vendorSaid}: Namirial's word stands`,
    );
  // A browser claiming a success Namirial does not confirm is a forged or tampered return: worth a look.
  if (mismatch && claim === 'Success')
    v.needsAttention('return-contradicted', 'the browser claimed a success that Namirial does not confirm');
}
