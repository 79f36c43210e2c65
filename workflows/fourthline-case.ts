/**
 * Fourthline French solution (../shared/vendor-docs/fourthline-french-idv-qes.txt): the identity
 * verification case, one per verification.
 *
 *   new -> (identity data + files) pending | invalid_data -> (processing) completed (risk score) | inconsistent_data
 *
 * then the signature attempts (fourthline-attempts.ts). Every phase ends by the case deadline, with
 * a normalized status and final search attributes. A long wait for the case continues as new, the
 * verification, its timeline and its deadline carried across (the API sees one verification).
 *
 * The doc's two restarts: "a new workflow for a signature only" (a window closed, an unrecoverable
 * error, invalid_signature) is a new attempt on the same case while `maxSignatureAttempts` allows;
 * "a new workflow that includes IDV and QES" (kyc_required, invalid_data, inconsistent_data) ends
 * the verification `completed/rejected` and nextAction says so.
 */
import { condition, continueAsNew, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { SEARCH_ATTRIBUTES, type VerificationState } from './shared';
import {
  FOURTHLINE_CASE_MEMO_KEY,
  attemptReportSignal,
  fourthlineCaseQuery,
  fourthlineCaseWebhookSignal,
  identityUpdate,
  type FourthlineCaseInput,
} from './fourthline-messages';
import { fl, flNow, asRefusal, refuse } from './fourthline-vendor';
import { FourthlineCaseRun, IDV_AND_QES } from './fourthline-case-run';
import { settleCancelledAttempt, showAttempt, signatureAttempts } from './fourthline-attempts';
import { ms, waitSummary } from './time';
import { recordUnansweredCreates } from './vendor-duplicates';
import { runIsFull } from './run-length';

/** How long after an identity Update settled another one is refused (tryAgain): see identitySettledAt. */
const IDENTITY_SETTLE_GUARD_MS = 1_000;

export async function fourthlineCase(input: FourthlineCaseInput): Promise<VerificationState> {
  const r = new FourthlineCaseRun(input);
  registerCaseHandlers(r);
  await r.v.runToEnd(() => run(r), {
    nextAction: IDV_AND_QES,
    // Cancelled from the Web UI or the CLI: the running signature attempt (cancelled with the case) ends
    // first, so the case shows how it ended and no attempt outlives its case.
    onCancel: () => settleCancelledAttempt(r),
    // Carried as it is once the handlers have finished (a webhook may have come meanwhile).
    continueAsNew: () => continueAsNew<typeof fourthlineCase>({ ...input, carried: r.carry() }),
  });
  r.view.stage = 'ended';
  // The case view (its attempts' outcomes) as it ended, for the read routes once no worker answers.
  r.v.publish(true);
  return r.v.state;
}

function registerCaseHandlers(r: FourthlineCaseRun): void {
  const { v, view } = r;
  let shownKey = '';
  setHandler(fourthlineCaseQuery, () => view);
  // Published with the state in the memo, so the signature and consent routes answer without a worker.
  v.memoExtras = () => ({ [FOURTHLINE_CASE_MEMO_KEY]: view });
  setHandler(fourthlineCaseWebhookSignal, ({ status }) => {
    // Thin and possibly stale or duplicated: only a prompt to GET the case. Ignored once ended.
    if (v.ended) return;
    v.note('case webhook received', `status ${status}`);
    r.caseNudged = true;
  });
  setHandler(attemptReportSignal, ({ view: a, consent, unreachableSince }) => {
    // Reports from a child that is no longer the current attempt (late) are ignored on purpose.
    const known = view.attempts.find((x) => x.attempt === a.attempt);
    if (!known || v.ended) return;
    Object.assign(known, a);
    if (consent) {
      view.consent.push(consent);
      v.audit(`consent ${consent.event}`, null, { ...consent });
      v.note(
        `consent ${consent.event}`,
        `attempt ${consent.attempt}: ${consent.legalConditions.map((l) => `${l.id}@${l.version}`).join(', ')}`,
      );
    }
    const outage = unreachableSince ?? null;
    if (outage !== null && r.outage.since === null)
      v.note('vendor unreachable', `Fourthline unreachable since ${outage}; retrying until the case deadline`);
    if (outage === null && r.outage.since !== null)
      v.note('vendor reachable again', `Fourthline was unreachable from ${new Date(r.outage.since).toISOString()}`);
    r.outage.since = outage === null ? null : Date.parse(outage);
    if (view.current?.attempt !== a.attempt) return;
    const detailsShown = view.consent.some((c) => c.attempt === a.attempt && c.event === 'shown');
    // The timeline and the status move on change only, not on every report.
    const key = JSON.stringify([a.phase, a.providerStatus, a.windows, detailsShown]);
    if (key === shownKey) return;
    shownKey = key;
    showAttempt(v, a, detailsShown);
  });
  // When (workflow time) the last identity Update settled. An identity Update is refused for a second after:
  // the SDK replays an Update accepted in the workflow task that completed another one in the opposite order
  // ("B accepted" before "A completed"), a nondeterminism that stops the case for good (a worker killed
  // mid-upload, the retried action arriving with the first upload's failure; sdk-python#673, sdk-rust#943).
  // Workflow time is the task's start, the same for every activation of one task, so the guard holds for the
  // whole task (the task's history length would not: it differs between activations of one task). A
  // rejection is not written to history, so the refusal itself replays as nothing; the API sends the Update
  // again a moment later (client/actions/fourthline.ts).
  let identitySettledAt = Number.NEGATIVE_INFINITY;
  setHandler(
    identityUpdate,
    async ({ identityRef, files }) => {
      r.identityBusy = true;
      try {
        const c = await flNow.fourthlineUploadIdentity({ verificationId: view.verificationId!, identityRef, files });
        v.addEvidence(identityRef);
        for (const f of files) v.addEvidence(f);
        r.applyCase(c, 'identity uploaded');
        return view;
      } catch (err) {
        throw asRefusal(err);
      } finally {
        r.identityBusy = false;
        identitySettledAt = Date.now();
      }
    },
    {
      validator: (_req: unknown) => {
        if (view.stage !== 'identity' || view.caseStatus !== 'new')
          throw refuse('wrongState', `identity data is uploaded once, while the case is new (stage ${view.stage})`);
        if (r.identityBusy) throw refuse('wrongState', 'an identity upload is already in progress');
        if (Date.now() - identitySettledAt < IDENTITY_SETTLE_GUARD_MS)
          throw refuse('tryAgain', 'the previous identity upload has just ended: send the identity again');
      },
    },
  );
}

/** The case's phases; 'continue' when this run's history has grown enough to continue as new. */
async function run(r: FourthlineCaseRun): Promise<'continue' | undefined> {
  const { v, view, o, input } = r;
  if (view.stage === 'creating') {
    const created = await fl.fourthlineCreateWorkflow({
      workflowName: o.flow === 'pending' ? 'french-idv-qes-pending' : 'french-idv-qes',
      clientReference: input.reference,
    });
    view.verificationId = created.workflowId;
    recordUnansweredCreates(v, 'case', created.createsUnanswered);
    view.clientId = created.clientId;
    view.caseStatus = 'new';
    v.setProviderReference(created.workflowId);
    // Case webhooks find the case by this search attribute (client/webhooks/fourthline.ts findCase).
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.providerReference, value: created.workflowId }]);

    view.stage = 'identity';
    const identityBy = Math.min(Date.now() + ms(o.identityDeadline), r.deadlineAt);
    v.progress('awaiting_user', 'case created', {
      providerStatus: 'new',
      nextAction: {
        type: 'action',
        action: 'identity',
        reason: 'upload the identity data and the identity files',
        deadline: new Date(identityBy).toISOString(),
      },
    });
    const uploaded = await condition(
      () => (view.caseStatus !== 'new' && !r.identityBusy) || v.cancelRequested !== null,
      Math.max(1, identityBy - Date.now()),
      waitSummary('Fourthline case · waiting for the identity data and files', identityBy),
    );
    if (v.cancelRequested !== null) return undefined;
    if (!uploaded) {
      // A window that closed is `expired/expired` for every vendor (README "What the API answers").
      v.finish('expired', 'expired', `no identity data and files within ${String(o.identityDeadline)}`, {
        nextAction: IDV_AND_QES,
      });
      return undefined;
    }
    if (r.endOnCaseFailure()) return undefined;

    view.stage = 'processing';
    // Shown as soon as the upload went through, not only once the processing call answered: under vendor
    // faults that call retries for minutes, and the API would keep asking for the identity meanwhile.
    v.progress('processing', 'identity uploaded', {
      providerStatus: view.caseStatus,
      nextAction: { type: 'wait', reason: 'Fourthline is processing the identity case' },
    });
    r.applyCase(await fl.fourthlineStartProcessing({ verificationId: view.verificationId }), 'case processing started');
    v.progress('processing', 'waiting for the case', {
      providerStatus: view.caseStatus,
      nextAction: { type: 'wait', reason: 'Fourthline is processing the identity case' },
    });
  }
  if (view.stage === 'processing') {
    if (o.flow === 'completed') {
      while (r.caseIs('pending') && v.cancelRequested === null) {
        if (runIsFull(r.polls, input.pollsPerRun)) return 'continue';
        if (!(await r.readCase())) {
          r.expire('while Fourthline processed the case');
          return undefined;
        }
      }
      if (v.cancelRequested !== null || r.endOnCaseFailure()) return undefined;
      await r.storeCdd();
    }
    view.stage = 'signature';
  }
  await signatureAttempts(r);
  return undefined;
}
