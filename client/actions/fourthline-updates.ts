/**
 * How the Fourthline actions (client/actions/fourthline.ts) reach the workflows: reading the case,
 * running an Update on the current signature attempt, and answering the workflow's refusals as the API
 * does (409 wrong state, 422 closed window or vendor refusal, 502 vendor unavailable).
 */
import crypto from 'node:crypto';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure, type UpdateDefinition } from '@temporalio/common';
import type { EvidenceStore } from '../../activities/evidence-store';
import { readPublished } from '../read-model';
import {
  FOURTHLINE_REFUSALS,
  fourthlineAttemptQuery,
  fourthlineCaseQuery,
  type AttemptView,
  type FourthlineCaseView,
  FOURTHLINE_CASE_MEMO_KEY,
} from '../../workflows/fourthline';
import { parseVerificationId } from '../../workflows/shared';
import { ApiError, notFound } from '../api-error';

export function fourthlineUpdates(deps: { client: Client; store: EvidenceStore }) {
  const { client, store } = deps;
  // Every upload is claimed by the verification (retention and erasure act on the claims).
  const json = (owner: string, kind: string, data: Record<string, unknown>) =>
    store.put(
      kind,
      'application/json',
      Buffer.from(JSON.stringify({ ...data, nonce: crypto.randomBytes(16).toString('hex') })),
      owner,
    );

  async function caseView(id: string): Promise<FourthlineCaseView> {
    if (parseVerificationId(id)?.provider !== 'fourthline') throw notFound();
    try {
      return await client.workflow.getHandle(id).query(fourthlineCaseQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw notFound();
      throw err;
    }
  }

  /** Why an attempt no longer takes actions, as the API answers it. */
  function closed(a: AttemptView | null, view: FourthlineCaseView): ApiError {
    if (!a)
      return new ApiError(409, 'conflict', `no signature attempt yet: the verification is at the ${view.stage} stage`);
    if (a.outcome === 'expired')
      return new ApiError(422, 'window_closed', `signature attempt ${a.attempt} has ended: ${a.reason}`);
    return new ApiError(409, 'conflict', `signature attempt ${a.attempt} has ended (${a.outcome}): ${a.reason}`);
  }

  function isTryAgain(err: unknown): boolean {
    return (
      err instanceof WorkflowUpdateFailedError &&
      err.cause instanceof ApplicationFailure &&
      err.cause.type === FOURTHLINE_REFUSALS.tryAgain
    );
  }

  function refusal(err: unknown): unknown {
    if (!(err instanceof WorkflowUpdateFailedError)) return err;
    const cause = err.cause instanceof ApplicationFailure ? err.cause : undefined;
    switch (cause?.type) {
      case FOURTHLINE_REFUSALS.wrongState:
        return new ApiError(409, 'conflict', cause.message);
      case FOURTHLINE_REFUSALS.windowClosed:
        return new ApiError(422, 'window_closed', cause.message);
      case FOURTHLINE_REFUSALS.rejected: {
        const status = (cause.details?.[0] as { httpStatus?: number } | undefined)?.httpStatus;
        return status === 502
          ? new ApiError(502, 'vendor_unavailable', cause.message)
          : new ApiError(422, 'vendor_rejected', cause.message);
      }
      default:
        return new ApiError(409, 'conflict', cause?.message ?? 'the action was refused');
    }
  }

  /** Runs an update on the current signature attempt. */
  async function onAttempt<Ret, Args extends unknown[]>(
    id: string,
    update: UpdateDefinition<Ret, Args>,
    ...args: Args
  ): Promise<Ret> {
    const view = await caseView(id);
    const a = view.current;
    if (!a || a.outcome) throw closed(a, view);
    try {
      // (The SDK's overloads cannot see through a generic argument list.)
      return await client.workflow
        .getHandle(a.workflowId)
        .executeUpdate(update as unknown as UpdateDefinition<Ret, [unknown]>, { args: args as unknown as [unknown] });
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        // The attempt closed between the read and the update: say how (its own final view).
        const final = await client.workflow
          .getHandle(a.workflowId)
          .query(fourthlineAttemptQuery)
          .catch(() => null);
        throw closed(final ?? a, view);
      }
      throw refusal(err);
    }
  }

  /** Before anything is stored: the verification exists, is the caller's, and has an open signature attempt. */
  async function requireOpenAttempt(id: string): Promise<void> {
    const view = await caseView(id);
    if (!view.current || view.current.outcome) throw closed(view.current, view);
  }

  /** For the read routes: never needs a worker (the query within 750 ms, else the view the case published). */
  async function publishedCaseView(id: string): Promise<FourthlineCaseView> {
    if (parseVerificationId(id)?.provider !== 'fourthline') throw notFound();
    const view = await readPublished(client, id, fourthlineCaseQuery, FOURTHLINE_CASE_MEMO_KEY);
    if (!view) throw new ApiError(503, 'unavailable', 'the signature view cannot be read right now; try again shortly');
    return view;
  }

  return { json, caseView, isTryAgain, refusal, onAttempt, requireOpenAttempt, publishedCaseView };
}
