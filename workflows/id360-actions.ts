/**
 * ID360's API mode: our caller's backend plays the user's steps (consent, document pages, selfie,
 * finalize), each an Update whose validator refuses a step out of order before any vendor call; a
 * vendor refusal of the step fails the Update (Id360VendorRejected), never the flow.
 */
import { ActivityFailure, ApplicationFailure, setHandler } from '@temporalio/workflow';
import type { NextAction, UpdateArg } from './shared';
import type { Verification } from './verification';
import {
  ID360_ACTION_FAILURES,
  ID360_MAX_PAGES,
  id360ConsentUpdate,
  id360FinalizeUpdate,
  id360UploadPageUpdate,
  id360UploadSelfieUpdate,
  type Id360Flow,
} from './id360-messages';
import { holdForMs, id360Steps } from './id360-vendor';

/** The actions of API mode: each validator refuses a step out of order before anything is recorded. */
export function setActionHandlers(v: Verification, flow: Id360Flow): void {
  const collecting = () => {
    if (v.ended) refuse(`the verification has already ended as ${v.state.status}`);
    if (v.cancelRequested !== null) refuse('the verification is being cancelled');
    if (flow.phase === 'opening') refuse('the enrollment is not ready yet: retry in a moment');
    if (flow.phase === 'with-user') refuse('this verification runs in browser mode: the user does the steps in ID360');
    if (flow.phase !== 'collecting') refuse('the enrollment has been finalized');
  };
  const hold = () => holdForMs(flow);
  /** Runs one vendor step for the caller; a vendor refusal becomes a failure of the update, not of the flow. */
  const step = async (what: string, call: () => Promise<void>): Promise<void> => {
    flow.busy++;
    try {
      await call();
    } catch (err) {
      throw stepFailure(v, what, err);
    } finally {
      flow.busy--;
    }
  };

  setHandler(
    id360ConsentUpdate,
    async ({ acceptedBiometry }) => {
      if (flow.consent?.biometry === acceptedBiometry) return v.state; // the same consent again: nothing to do
      await step('consent', () =>
        id360Steps.id360RecordConsent({ ...flow.enrollment!, acceptedCgu: true, acceptedBiometry, holdForMs: hold() }),
      );
      flow.consent = { biometry: acceptedBiometry };
      v.audit('consent accepted', null, { acceptedCgu: true, acceptedBiometry });
      v.progress('awaiting_user', 'consent recorded', {
        detail: acceptedBiometry ? 'terms and biometry' : 'terms only',
        nextAction: nextStep(flow),
      });
      return v.state;
    },
    {
      validator: ({ acceptedCgu, acceptedBiometry }: UpdateArg<typeof id360ConsentUpdate>) => {
        collecting();
        if (acceptedCgu !== true) refuse("acceptedCgu must be true: ID360 needs the user's acceptance of its terms");
        if (typeof acceptedBiometry !== 'boolean') refuse('acceptedBiometry must be true or false');
        if (flow.consent && flow.consent.biometry !== acceptedBiometry) refuse('the consent has already been recorded');
      },
    },
  );

  setHandler(
    id360UploadPageUpdate,
    async ({ page, totalPages, document }) => {
      await step(`page ${page + 1} of ${totalPages}`, () =>
        id360Steps.id360UploadDocumentPage({ ...flow.enrollment!, page, totalPages, document, holdForMs: hold() }),
      );
      flow.totalPages = totalPages;
      if (!flow.pages.includes(page)) flow.pages.push(page);
      v.addEvidence(document);
      v.progress('awaiting_user', 'document page uploaded', {
        detail: `page ${page + 1} of ${totalPages}`,
        nextAction: nextStep(flow),
      });
      return v.state;
    },
    {
      validator: ({ page, totalPages, document }: UpdateArg<typeof id360UploadPageUpdate>) => {
        collecting();
        if (!flow.consent) refuse('record the consent first');
        if (!Number.isInteger(totalPages) || totalPages < 1 || totalPages > ID360_MAX_PAGES)
          refuse(`totalPages must be from 1 to ${ID360_MAX_PAGES}`);
        if (!Number.isInteger(page) || page < 0 || page >= totalPages) refuse('page must be from 0 to totalPages - 1');
        if (flow.totalPages !== null && flow.totalPages !== totalPages)
          refuse(`totalPages was ${flow.totalPages} for the pages already uploaded`);
        if (!document?.sha256) refuse('the document reference is missing');
      },
    },
  );

  setHandler(
    id360UploadSelfieUpdate,
    async ({ selfie }) => {
      await step('selfie', () => id360Steps.id360UploadSelfie({ ...flow.enrollment!, selfie, holdForMs: hold() }));
      flow.selfie = true;
      v.addEvidence(selfie);
      v.progress('awaiting_user', 'selfie uploaded', { nextAction: nextStep(flow) });
      return v.state;
    },
    {
      validator: ({ selfie }: UpdateArg<typeof id360UploadSelfieUpdate>) => {
        collecting();
        if (!flow.consent) refuse('record the consent first');
        if (!flow.consent.biometry) refuse('a selfie needs the biometry consent (acceptedBiometry: true)');
        if (!selfie?.sha256) refuse('the selfie reference is missing');
      },
    },
  );

  setHandler(
    id360FinalizeUpdate,
    async () => {
      flow.phase = 'finalizing';
      try {
        await step('finalize', () => id360Steps.id360Finalize({ ...flow.enrollment!, holdForMs: hold() }));
      } catch (err) {
        flow.phase = 'collecting';
        throw err;
      }
      flow.phase = 'processing';
      v.progress('processing', 'enrollment finalized', {
        nextAction: { type: 'wait', reason: 'ID360 is checking the documents' },
      });
      return v.state;
    },
    {
      validator: () => {
        collecting();
        if (flow.busy > 0) refuse('a step is still under way: finalize once it has answered');
        if (!flow.consent) refuse('record the consent first');
        if (flow.totalPages === null || flow.pages.length < flow.totalPages)
          refuse('upload every page of the identity document first');
        if (flow.consent.biometry && !flow.selfie) refuse('the biometry consent was given: upload the selfie first');
      },
    },
  );
}

/** Refuses an action (in a validator): nothing has been recorded, the API answers 409 with the message. */
function refuse(message: string): never {
  throw ApplicationFailure.create({ message, type: ID360_ACTION_FAILURES.refused, nonRetryable: true });
}

/** The failure an action's caller sees: the vendor's refusal (4xx) or its unavailability, never the workflow's. */
function stepFailure(v: Verification, what: string, err: unknown): ApplicationFailure {
  const cause = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : undefined;
  const rejected = cause?.type === 'VendorRequestRejected';
  if (!v.ended) v.note(rejected ? 'step refused by ID360' : 'step failed', `${what}: ${cause?.message ?? 'no answer'}`);
  return ApplicationFailure.create({
    message: cause?.message ?? `ID360 did not answer the ${what}`,
    type: rejected ? ID360_ACTION_FAILURES.rejected : ID360_ACTION_FAILURES.unavailable,
    nonRetryable: true,
    details: cause?.details ? [...cause.details] : [],
  });
}

/** What API mode expects next from our caller. */
export function nextStep(flow: Id360Flow): NextAction {
  const deadline = new Date(flow.deadlineAt).toISOString();
  if (!flow.consent) {
    return {
      type: 'action',
      action: 'consent',
      reason: "record the user's acceptance of ID360's terms (and of biometry, for a selfie)",
      deadline,
    };
  }
  if (flow.totalPages === null || flow.pages.length < flow.totalPages) {
    const missing =
      flow.totalPages === null ? null : [...Array(flow.totalPages).keys()].find((p) => !flow.pages.includes(p));
    const reason =
      missing === null || missing === undefined
        ? 'upload the identity document, one request per page'
        : `upload page ${missing + 1} of ${flow.totalPages} of the identity document`;
    return { type: 'action', action: 'upload-document-page', reason, deadline };
  }
  if (flow.consent.biometry && !flow.selfie)
    return { type: 'action', action: 'upload-selfie', reason: 'upload the selfie', deadline };
  return { type: 'action', action: 'finalize', reason: 'every document is in: finalize the enrollment', deadline };
}
