/**
 * Finwave digital onboarding (../shared/vendor-docs/finwave-digital-onboarding.txt).
 *
 * Vendor state machine:  CREATED -> INPROCESS -> FINISHED | INCOMPLETED | TIMEOUT
 *
 * 1. Create the integration; hand the user URL back as nextAction.
 * 2. Wait for a webhook (a nudge only: we always read the result from Finwave before acting), or
 *    poll every `pollInterval` in case webhooks are lost, until `deadline` runs out.
 * 3. FINISHED: fetch the result and the evidence ZIP into the evidence store, decide the outcome
 *    from processStatus. INCOMPLETED: abandoned. TIMEOUT: expired.
 */
import { condition, continueAsNew, defineSignal, setHandler } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { FinwaveActivities, FinwaveResultSummary, FinwaveStatus } from '../activities/finwave';
import {
  RESTART_WITH_NEW_REFERENCE,
  vendorReference,
  type VerificationInputBase,
  type VerificationState,
} from './shared';
import { Verification } from './verification';
import { VendorOutage } from './vendor-outage';
import { ms, waitSummary } from './time';
import { vendorActivities } from './activity-queues';
import { runIsFull } from './run-length';

export interface FinwaveInput extends VerificationInputBase {
  applicant: { phoneCountryCode?: string; phone?: string };
  options: FinwaveOptions;
  /** Set by continue-as-new only: the verification so far, the absolute deadline, the vendor's id. */
  carried?: { state: VerificationState; deadlineAt: number; onboardingId: string; outageSince: number | null };
  /** Test-only: continue as new after this many polls (default POLLS_PER_RUN, run-length.ts). */
  pollsPerRun?: number;
}

export interface FinwaveOptions {
  lang: 'ENG';
  phoneStep: boolean;
  acceptations: { mandatory: boolean; text: string }[];
  /** processStatus.score below this is a rejection. */
  minScore: number;
  /** How often to read the result when no webhook comes. */
  pollInterval: Duration;
  /** Overall time the user has before the verification ends as expired. */
  deadline: Duration;
}

/** Who this workflow is for the shared tracker (its Web UI summaries) and for config/vendors/finwave.ts. */
export const FINWAVE_VENDOR = { name: 'finwave', label: 'Finwave onboarding' } as const;

export const FINWAVE_DEFAULTS = {
  pollInterval: '15 minutes',
  deadline: '72 hours',
  minScore: 50,
} as const;

/** Finwave's webhook body, minus the customId (which is our reference and told us nothing new). */
export interface FinwaveWebhook {
  onboardingId: string;
  result: string;
}

export const finwaveWebhookSignal = defineSignal<[FinwaveWebhook]>('finwaveWebhook');

const finwave = vendorActivities<FinwaveActivities>('finwave', {
  startToClose: '2 minutes',
  scheduleToClose: '1 hour',
});

export async function finwaveOnboarding(input: FinwaveInput): Promise<VerificationState> {
  const v = new Verification(FINWAVE_VENDOR, input.id, input.reference, input.carried?.state);
  const outage = new VendorOutage('Finwave', v, input.carried?.outageSince ?? null);
  await v.runToEnd(() => run(v, input, outage), {
    continueAsNew: (carry) =>
      continueAsNew<typeof finwaveOnboarding>({
        ...input,
        carried: { state: v.state, outageSince: outage.since, ...carry },
      }),
  });
  return v.state;
}

/** Runs the flow; answers what to carry when this run's history has grown enough to continue as new. */
async function run(
  v: Verification,
  input: FinwaveInput,
  outage: VendorOutage,
): Promise<{ deadlineAt: number; onboardingId: string } | undefined> {
  let nudged = false;

  setHandler(finwaveWebhookSignal, (hook) => {
    // Webhooks can be duplicated, late or out of order: they only prompt a fresh read of the
    // result below, which is what decides. Once the flow has ended they are ignored on purpose.
    if (v.ended) return;
    if (v.state.providerReference && hook.onboardingId !== v.state.providerReference) {
      v.note('webhook ignored', 'onboardingId does not match this verification');
      return;
    }
    v.note('webhook received', `result ${hook.result}`);
    nudged = true;
  });

  let onboardingId = input.carried?.onboardingId;
  if (!onboardingId) {
    const created = await finwave.finwaveCreateIntegration({
      workflowId: input.id,
      customId: vendorReference(input.id, input.reference),
      applicant: input.applicant,
      lang: input.options.lang,
      phoneStep: input.options.phoneStep,
      acceptations: input.options.acceptations,
    });
    onboardingId = created.onboardingId;
    v.setProviderReference(created.onboardingId);
    if (input.options.acceptations.length) v.audit('consent shown', null, { acceptations: input.options.acceptations });
    if (created.url) {
      v.progress('awaiting_user', 'onboarding created', {
        providerStatus: created.status,
        nextAction: { type: 'redirect', url: created.url },
      });
    } else {
      // A repeated create for a process the user already started answers url: null (doc).
      v.progress('processing', 'onboarding already started', {
        providerStatus: created.status,
        nextAction: { type: 'wait', reason: 'the user already started this onboarding' },
      });
      nudged = true;
    }
  }

  const deadlineAt = input.carried?.deadlineAt ?? Date.now() + ms(input.options.deadline);
  let polls = 0;
  while (!v.ended) {
    const remaining = deadlineAt - Date.now();
    if (remaining <= 0) {
      v.finish(
        'expired',
        'expired',
        `no final result from Finwave within ${String(input.options.deadline)}${outage.suffix()}`,
      );
      break;
    }
    if (!nudged && runIsFull(polls, input.pollsPerRun)) return { deadlineAt, onboardingId };
    const wait = Math.min(ms(input.options.pollInterval), remaining);
    const woken = await condition(
      () => nudged || v.cancelRequested !== null,
      wait,
      waitSummary('Finwave onboarding · waiting for a webhook or the next poll', Date.now() + wait, deadlineAt),
    );
    if (v.cancelRequested !== null) {
      v.finish('cancelled', null, v.cancelRequested);
      break;
    }
    if (!woken && Date.now() >= deadlineAt) continue; // the deadline check above ends the flow
    nudged = false;
    polls++;

    // An outage shorter than the deadline never ends the flow: the next slot reads again.
    const result = await outage.read(() => finwave.finwaveGetResult({ onboardingId }));
    if (result)
      await apply(v, result, woken ? 'result read after webhook' : 'result read by polling', input.options.minScore);
  }
  return undefined;
}

async function apply(v: Verification, result: FinwaveResultSummary, event: string, minScore: number): Promise<void> {
  const status: FinwaveStatus = result.status;
  if (result.resultRef) v.addEvidence(result.resultRef);
  switch (status) {
    // The timeline moves on change only, not on every poll.
    case 'CREATED':
      if (v.state.providerStatus !== status) v.progress('awaiting_user', event, { providerStatus: status });
      return;
    case 'INPROCESS':
      if (v.state.providerStatus !== status)
        v.progress('awaiting_user', event, { providerStatus: status, detail: 'the user has started' });
      return;
    case 'INCOMPLETED':
      v.setFacts(factsOf(result));
      v.finish('failed', 'abandoned', `the user did not complete the onboarding${because(result)}`, {
        providerStatus: status,
        nextAction: RESTART_WITH_NEW_REFERENCE,
      });
      return;
    case 'TIMEOUT':
      v.setFacts(factsOf(result));
      v.finish('expired', 'expired', `Finwave's time to complete the onboarding ran out${because(result)}`, {
        providerStatus: status,
        nextAction: RESTART_WITH_NEW_REFERENCE,
      });
      return;
    case 'FINISHED': {
      v.audit('consent answered', null, { acceptations: result.acceptations, finishedAt: result.finishedAt });
      v.progress('processing', event, {
        providerStatus: status,
        nextAction: { type: 'wait', reason: 'collecting evidence' },
      });
      v.setFacts(factsOf(result));
      const zip = await finwave.finwaveDownloadEvidence({ onboardingId: result.onboardingId });
      v.addEvidence(zip);
      v.note('evidence stored', `${zip.kind} ${zip.sha256.slice(0, 12)} (${zip.size} bytes)`);
      const decision = decideFinwaveOutcome(result, minScore);
      v.finish('completed', decision.outcome, decision.reason, { providerStatus: status });
      return;
    }
  }
}

/** The outcome of a FINISHED onboarding, from processStatus (score, steps, errorEvent) and consents. */
export function decideFinwaveOutcome(
  result: Pick<FinwaveResultSummary, 'score' | 'steps' | 'errorEvent' | 'acceptations'>,
  minScore: number,
): { outcome: 'approved' | 'rejected'; reason: string } {
  if (result.errorEvent) return { outcome: 'rejected', reason: `Finwave reported ${result.errorEvent}` };
  const failed = Object.entries(result.steps)
    .filter(([, ok]) => ok === false)
    .map(([step]) => step);
  if (failed.length) return { outcome: 'rejected', reason: `step(s) failed: ${failed.join(', ')}` };
  if (result.acceptations.some((a) => a.mandatory && !a.accepted)) {
    return { outcome: 'rejected', reason: 'a mandatory acceptation was not accepted' };
  }
  if (result.score === null || result.score < minScore) {
    return { outcome: 'rejected', reason: `score ${result.score ?? 'missing'} is below the minimum ${minScore}` };
  }
  return { outcome: 'approved', reason: `all steps passed with score ${result.score}` };
}

function factsOf(r: FinwaveResultSummary): Record<string, string | number | boolean | null> {
  const facts: Record<string, string | number | boolean | null> = { score: r.score, errorEvent: r.errorEvent };
  for (const [step, ok] of Object.entries(r.steps)) facts[`step.${step}`] = ok;
  return facts;
}

function because(r: FinwaveResultSummary): string {
  return r.errorEvent ? ` (${r.errorEvent})` : '';
}
