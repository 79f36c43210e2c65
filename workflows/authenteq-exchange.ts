/**
 * Authenteq's code exchange (../shared/vendor-docs/authenteq-web-idv.txt): Authenteq spends a code on
 * its first successful exchange, so each attempt is its own activity, recorded in the timeline, and
 * only an attempt that got no answer is retried. A refusal after an unanswered attempt means that
 * attempt spent the code.
 */
import { ActivityFailure, ApplicationFailure, sleep, TimeoutFailure } from '@temporalio/workflow';
import type { AuthenteqActivities, AuthenteqResultSummary } from '../activities/authenteq';
import type { Verification } from './verification';
import { waitSummary } from './time';
import { vendorActivities } from './activity-queues';

/** Waits between exchange attempts: 2 s, doubling, at most a minute (a code is short-lived). */
const EXCHANGE_FIRST_DELAY_MS = 2_000;
const EXCHANGE_MAX_DELAY_MS = 60_000;

/** The exchange is not idempotent (it spends the code): one attempt per activity, the workflow decides. */
const exchangeOnce = vendorActivities<AuthenteqActivities>('authenteq', {
  startToClose: '1 minute',
  retry: { maximumAttempts: 1 },
}).authenteqExchangeCode;

export type Exchanged =
  | { kind: 'result'; result: AuthenteqResultSummary }
  | { kind: 'lost-after-success'; attempts: number }
  | { kind: 'code-refused'; attempts: number }
  | { kind: 'unanswered'; attempts: number };

/** Exchanges the code, retrying only what got no answer; every attempt is in the timeline. */
export async function exchange(
  v: Verification,
  input: { workflowId: string; returnTo: string | null; attempts: number },
  session: number,
  code: string,
  keyId?: string,
): Promise<Exchanged> {
  let delay = EXCHANGE_FIRST_DELAY_MS;
  const attempts = input.attempts;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    v.note('code exchange attempted', `attempt ${attempt}`);
    v.setFacts({ exchangeAttempts: attempt });
    try {
      const result = await exchangeOnce({
        workflowId: input.workflowId,
        session,
        returnTo: input.returnTo,
        code,
        ...(keyId !== undefined ? { keyId } : {}),
      });
      return { kind: 'result', result };
    } catch (err) {
      const seen = classify(err);
      if (seen.kind === 'fatal') throw err;
      if (seen.kind === 'code-refused') {
        v.note('code exchange refused', `attempt ${attempt}: ${seen.detail}`);
        // The first attempt refused: the code was bad. A later one: an earlier attempt, unanswered, spent it.
        return attempt === 1
          ? { kind: 'code-refused', attempts: attempt }
          : { kind: 'lost-after-success', attempts: attempt };
      }
      v.note('code exchange unanswered', `attempt ${attempt}: ${seen.detail}`);
      if (attempt < attempts) {
        await sleep(
          delay,
          waitSummary(`Authenteq · code exchange unanswered: retry ${attempt + 1} of ${attempts}`, Date.now() + delay),
        );
        delay = Math.min(delay * 2, EXCHANGE_MAX_DELAY_MS);
      }
    }
  }
  return { kind: 'unanswered', attempts };
}

/** What one exchange attempt tells us. Failure type names are activities/http.ts FAILURE_TYPES. */
function classify(err: unknown): { kind: 'no-answer' | 'code-refused'; detail: string } | { kind: 'fatal' } {
  if (!(err instanceof ActivityFailure)) return { kind: 'fatal' };
  const cause = err.cause;
  if (cause instanceof TimeoutFailure) return { kind: 'no-answer', detail: 'no answer in time' };
  if (!(cause instanceof ApplicationFailure)) return { kind: 'fatal' };
  const d = (cause.details?.[0] ?? {}) as { httpStatus?: number; networkError?: string; vendorCode?: string | null };
  if (cause.type === 'VendorUnavailable' || cause.type === 'VendorRateLimited') {
    return {
      kind: 'no-answer',
      detail: d.networkError ? `no answer (${d.networkError})` : `answered ${d.httpStatus ?? 'an error'}`,
    };
  }
  // A refused code answers 400 INVALID_REQUEST_PARAMETER naming `code`; some of the doc's own error
  // bodies are not JSON, so a 400 we could not read is taken as a refused code too.
  if (
    cause.type === 'VendorRequestRejected' &&
    d.httpStatus === 400 &&
    (d.vendorCode === 'INVALID_REQUEST_PARAMETER:code' || !d.vendorCode)
  ) {
    return { kind: 'code-refused', detail: `400 ${d.vendorCode ?? '(unreadable body)'}` };
  }
  return { kind: 'fatal' };
}
