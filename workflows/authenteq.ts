/**
 * Authenteq web IDV (../shared/vendor-docs/authenteq-web-idv.txt).
 *
 * The result comes back through the user's browser, an untrusted channel: the browser only tells us
 * that a one-time `code` exists; the result is what Authenteq answers when the worker exchanges that
 * code with our client secret.
 *
 * 1. Ask for a verification URL (session 1). Its redirect URL is our `/return/authenteq` receiver
 *    with a signed state naming this verification and session; hand the URL back as nextAction.
 * 2. Wait for the browser to come back for this session, for a cancel, or for `deadline`.
 *    Back without a code: Authenteq says to restart, so open a new session (at most `maxRestarts` times).
 * 3. Back with a code: exchange it. Authenteq spends a code on its first successful exchange, so each
 *    attempt is recorded, and "code invalid" after an attempt that got no answer means that lost
 *    attempt spent it: the verification ends `failed` / `error` with facts `exchange: lost-after-success`
 *    (the user may well have passed; an operator has to look). A code refused at the first attempt is
 *    `exchange: code-refused`.
 * 4. PASSED -> approved, FAILED -> rejected. Images and the address proof go to the evidence store;
 *    history keeps their references and the non-identifying facts (status, document types and
 *    countries, nfcVerified).
 *
 * The code travels in a signal, so it is in history: on its own it is useless (the exchange needs our
 * client secret) and Authenteq spends it at the exchange.
 */
import { condition, defineSignal, setHandler } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { AuthenteqActivities, AuthenteqResultSummary } from '../activities/authenteq';
import {
  RESTART_WITH_NEW_REFERENCE,
  type EvidenceRef,
  type VerificationInputBase,
  type VerificationState,
} from './shared';
import { Verification } from './verification';
import { ms, waitSummary } from './time';
import { vendorActivities } from './activity-queues';
import { exchange } from './authenteq-exchange';

export interface AuthenteqInput extends VerificationInputBase {
  options: AuthenteqOptions;
}

export interface AuthenteqOptions {
  /** `AQ-Multi-Document-Flow: On`: the user may scan up to three documents (documentData2/3). */
  multiDocument: boolean;
  /** `AQ-Flow-Slug`: the Authenteq flow to use instead of the account's default. */
  flowSlug: string | null;
  /** Where our return receiver sends the browser afterwards; null: a "you can close this window" page. */
  returnTo: string | null;
  /** Overall time the user has, across restarts, before the verification ends as expired. */
  deadline: Duration;
  /** How many times a return without a code opens a new session before the verification ends as abandoned. */
  maxRestarts: number;
  /** Attempts at exchanging a code when Authenteq does not answer (each one recorded). */
  exchangeAttempts: number;
}

/**
 * Authenteq documents no lifetime for a verification URL or a code: 24 hours is our own bound for the
 * user (Authenteq's webhooks are retried for a week, which is no help to a user waiting at a page).
 */
/** Who this workflow is for the shared tracker (its Web UI summaries) and for config/vendors/authenteq.ts. */
export const AUTHENTEQ_VENDOR = { name: 'authenteq', label: 'Authenteq identity verification' } as const;

export const AUTHENTEQ_DEFAULTS = {
  deadline: '24 hours',
  maxRestarts: 3,
  exchangeAttempts: 5,
} as const;

/** Returns of one session waiting while a code is exchanged: more are ignored (a browser has one genuine return). */
const MAX_PENDING_RETURNS = 3;
/** Returns we record in the timeline when they are ignored (a reloading browser could send many). */
const MAX_IGNORED_RETURNS_NOTED = 10;

/** The browser came back to `/return/authenteq` for `session`, with Authenteq's code or without one. */
export interface AuthenteqReturn {
  session: number;
  code: string | null;
  /** The WEBHOOK_KEYS key that signed the state the browser came back with: the exchange repeats that redirect URL. */
  keyId?: string;
}

export const authenteqReturnSignal = defineSignal<[AuthenteqReturn]>('authenteqReturn');

const authenteq = vendorActivities<AuthenteqActivities>('authenteq', {
  startToClose: '1 minute',
  scheduleToClose: '30 minutes',
  retry: { maximumInterval: '1 minute' },
});

export async function authenteqVerification(input: AuthenteqInput): Promise<VerificationState> {
  const v = new Verification(AUTHENTEQ_VENDOR, input.id, input.reference);
  // A native cancel ends it cancelled; handlers are drained before it completes (Verification.runToEnd).
  await v.runToEnd(() => run(v, input), {
    onVendorFailure: (cause) => {
      // An invalid result is still kept as evidence, for the operator to look at.
      const kept = (cause?.details?.[0] as { evidence?: EvidenceRef } | undefined)?.evidence;
      if (kept) v.addEvidence(kept);
    },
  });
  return v.state;
}

async function run(v: Verification, input: AuthenteqInput): Promise<void> {
  const { options } = input;
  let session = 0;
  // Returns of the current session waiting to be handled, and the codes this session has seen. A code
  // from the browser is only a hint: one Authenteq refuses does not end the flow (someone holding the
  // return URL may have forged it), the genuine return that may follow still counts.
  let pending: AuthenteqReturn[] = [];
  let seenCodes: string[] = [];
  let ignored = 0;

  setHandler(authenteqReturnSignal, (r) => {
    // The browser may reload, go back, or replay an old link: a return for another session, a code
    // already seen, or more than a few waiting are ignored on purpose (noted, up to a bound). After the end: silent.
    if (v.ended) return;
    const repeat = r.code === null ? pending.some((p) => p.code === null) : seenCodes.includes(r.code);
    if (r.session !== session || repeat || pending.length >= MAX_PENDING_RETURNS) {
      ignored++;
      v.setFacts({ ignoredReturns: ignored });
      if (ignored <= MAX_IGNORED_RETURNS_NOTED) {
        v.note(
          'return ignored',
          r.session !== session
            ? `it is for session ${r.session}, the current one is ${session}`
            : 'this session already came back',
        );
      }
      return;
    }
    if (r.code !== null) seenCodes.push(r.code);
    pending.push(r);
  });

  const deadlineAt = Date.now() + ms(options.deadline);
  for (;;) {
    session++;
    pending = [];
    seenCodes = [];
    const { verificationUrl } = await authenteq.authenteqGetVerificationUrl({
      workflowId: input.id,
      session,
      returnTo: options.returnTo,
      multiDocument: options.multiDocument,
      flowSlug: options.flowSlug,
    });
    v.setFacts({ session });
    v.progress('awaiting_user', session === 1 ? 'verification URL issued' : 'verification restarted', {
      nextAction: { type: 'redirect', url: verificationUrl },
      detail: `session ${session}`,
    });

    const outcome = await awaitReturnAndExchange(
      v,
      input,
      { session, deadlineAt, verificationUrl },
      {
        waiting: () => pending.length > 0,
        next: () => pending.shift() ?? null,
      },
    );
    if (outcome === 'done') return;
    if (outcome === 'restart') {
      if (session > options.maxRestarts) {
        v.finish('failed', 'abandoned', `the user came back from Authenteq without finishing ${session} times`, {
          nextAction: RESTART_WITH_NEW_REFERENCE,
        });
        return;
      }
      continue;
    }
  }
}

/**
 * Waits for a return of this session and handles it: 'restart' when the browser came back without a
 * code, 'done' once the flow has ended. A code Authenteq refuses at the first attempt was never a valid
 * one (a forged or stale return): the case is flagged `forged-return` and the flow keeps waiting for a
 * good return until its deadline.
 */
async function awaitReturnAndExchange(
  v: Verification,
  input: AuthenteqInput,
  { session, deadlineAt, verificationUrl }: { session: number; deadlineAt: number; verificationUrl: string },
  returns: { waiting: () => boolean; next: () => AuthenteqReturn | null },
): Promise<'done' | 'restart'> {
  const { options } = input;
  for (;;) {
    const remaining = deadlineAt - Date.now();
    const came =
      returns.waiting() ||
      (remaining > 0 &&
        (await condition(
          () => returns.waiting() || v.cancelRequested !== null,
          remaining,
          waitSummary("Authenteq · waiting for the user's browser to come back", deadlineAt),
        )));
    const back = v.cancelRequested === null ? returns.next() : null;
    if (v.cancelRequested !== null) {
      v.finish('cancelled', null, v.cancelRequested);
      return 'done';
    }
    if (!came || back === null) {
      v.finish('expired', 'expired', `the user did not come back from Authenteq within ${String(options.deadline)}`, {
        nextAction: RESTART_WITH_NEW_REFERENCE,
      });
      return 'done';
    }
    const { code, keyId } = back;
    if (code === null) {
      v.note('returned without a code', `session ${session}: Authenteq says to restart`);
      return 'restart';
    }

    v.progress('processing', 'returned with a code', {
      nextAction: { type: 'wait', reason: 'reading the result from Authenteq' },
      detail: `session ${session}`,
    });
    const exchanged = await exchange(
      v,
      { workflowId: input.id, returnTo: options.returnTo, attempts: options.exchangeAttempts },
      session,
      code,
      keyId,
    );
    if (exchanged.kind === 'result') {
      decide(v, exchanged.result);
      return 'done';
    }
    if (exchanged.kind === 'code-refused' && exchanged.attempts === 1) {
      v.note(
        'return refused',
        `session ${session}: Authenteq refused the code from the browser; waiting for a genuine return`,
      );
      v.needsAttention(
        'forged-return',
        'a browser return carried a code Authenteq refused: someone else may hold the return URL',
      );
      v.progress('awaiting_user', 'waiting for a genuine return', {
        nextAction: { type: 'redirect', url: verificationUrl },
        detail: `session ${session}`,
      });
      continue;
    }
    v.setFacts({ exchange: exchanged.kind });
    const restart = { nextAction: RESTART_WITH_NEW_REFERENCE };
    switch (exchanged.kind) {
      case 'lost-after-success':
        v.note(
          'result lost after exchange',
          `attempt ${exchanged.attempts} was refused the code an earlier, unanswered attempt had spent`,
        );
        v.needsAttention(
          'result-lost-after-exchange',
          'the user may have passed: check the Authenteq dashboard before asking them again',
        );
        v.finish(
          'failed',
          'error',
          'result lost: Authenteq spent the code on an exchange whose answer never reached us, and a code works once. ' +
            'The user may have passed: check this verification in the Authenteq dashboard before asking the user again',
          restart,
        );
        return 'done';
      case 'code-refused':
        v.finish('failed', 'error', 'Authenteq refused the code from the browser as invalid or expired', restart);
        return 'done';
      case 'unanswered':
        v.finish(
          'failed',
          'error',
          `Authenteq did not answer the code exchange in ${exchanged.attempts} attempts`,
          restart,
        );
        return 'done';
    }
  }
}

function decide(v: Verification, r: AuthenteqResultSummary): void {
  v.setProviderReference(r.verificationId);
  for (const ref of r.evidence) v.addEvidence(ref);
  v.note(
    'evidence stored',
    `${r.evidence.length} item(s): result, images${r.evidence.some((e) => e.kind === 'authenteq-address-proof') ? ', address proof' : ''}`,
  );
  const facts: Record<string, string | number | boolean | null> = {
    nfcVerified: r.nfcVerified,
    documents: r.documents.length,
  };
  r.documents.forEach((d, i) => {
    facts[`document${i + 1}.type`] = d.documentType;
    facts[`document${i + 1}.country`] = d.issuingCountry;
  });
  v.setFacts(facts);
  const docs = r.documents.map((d) => `${d.documentType}/${d.issuingCountry}`).join(', ');
  switch (r.status) {
    case 'PASSED':
      v.finish(
        'completed',
        'approved',
        `Authenteq verification PASSED (${docs}${r.nfcVerified ? ', NFC verified' : ''})`,
        { providerStatus: r.status },
      );
      return;
    case 'FAILED':
      v.finish('completed', 'rejected', `Authenteq verification FAILED (${docs})`, {
        providerStatus: r.status,
        nextAction: RESTART_WITH_NEW_REFERENCE,
      });
      return;
    default:
      v.finish('failed', 'error', `Authenteq answered status ${r.status}, which we do not know`, {
        providerStatus: r.status,
      });
  }
}
