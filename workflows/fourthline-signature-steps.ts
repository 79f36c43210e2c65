/**
 * The human steps of a signature attempt, as Updates: documents, mobile number, signature details,
 * approve, confirm, resend the passcode, selfie. Each validator refuses a wrong phase (409) or a
 * closed window (422) before any vendor call; each step runs alone (`SignatureAttempt.step`).
 */
import { setHandler } from '@temporalio/workflow';
import {
  approveUpdate,
  confirmUpdate,
  resendPasscodeUpdate,
  setMobileNumberUpdate,
  signatureDetailsUpdate,
  uploadDocumentsUpdate,
  uploadSelfieUpdate,
  type ConsentRecord,
} from './fourthline-messages';
import { flNow, refuse } from './fourthline-vendor';
import { FOURTHLINE_MAX_RESENDS } from '../activities/fourthline/constants';
import type { SignatureAttempt } from './fourthline-signature-attempt';
import type { UpdateArg } from './shared';

export function registerSignatureSteps(s: SignatureAttempt): void {
  const { signatureId } = s.input;
  const o = s.input.options;
  const a = s.view;

  setHandler(
    uploadDocumentsUpdate,
    (req) =>
      s.step(async () => {
        await flNow.fourthlineUploadDocuments({ signatureId, documents: req.documents });
        s.documents = req.documents;
        for (const d of req.documents) s.evidence.push(d.ref);
        s.apply({ status: 'pending', statusCode: null });
        return a;
      }),
    {
      validator: (_req: unknown) => {
        s.phaseIs('awaiting_documents');
        // A new attempt uploads the earlier attempt's documents itself (carryForward): an integrator's
        // upload meanwhile would be a second one at Fourthline.
        if (s.input.documents && !s.documents)
          throw refuse('wrongState', 'this signature attempt is uploading the documents of the earlier attempt');
      },
    },
  );
  setHandler(
    setMobileNumberUpdate,
    (req) =>
      s.step(async () => {
        const r = await flNow.fourthlineUploadMobileNumber({ signatureId, mobileRef: req.mobileRef });
        s.mobileRef = req.mobileRef;
        s.apply(r);
        return a;
      }),
    { validator: (_req: unknown) => s.phaseIs('awaiting_mobile') },
  );
  setHandler(
    signatureDetailsUpdate,
    () =>
      s.step(async () => {
        const d = await flNow.fourthlineGetSignatureDetails({ signatureId, language: o.language });
        const shown: ConsentRecord = {
          attempt: s.input.attempt,
          signatureId,
          clientId: d.clientId,
          event: 'shown',
          at: new Date().toISOString(),
          language: o.language,
          legalConditions: d.legalConditions.map((l) => ({ id: l.id, version: l.version, title: l.title })),
          documents: d.documents,
          approvalAttemptId: null,
        };
        s.shown = shown;
        await s.report(shown);
        return {
          view: a,
          shown,
          passcode: {
            length: d.passcode.length,
            validitySeconds: d.passcode.validitySeconds,
            resendsLeft: d.passcode.resendsLeft,
          },
        };
      }),
    { validator: () => s.phaseIs('awaiting_approval') },
  );
  setHandler(
    approveUpdate,
    (req) =>
      s.step(async () => {
        const shown = s.shown!;
        const legalConditions =
          req.legalConditions ?? shown.legalConditions.map((l) => ({ id: l.id, version: l.version }));
        const documentIds = req.documentIds ?? shown.documents.map((d) => d.documentId);
        const r = await flNow.fourthlineApprove({ signatureId, documentIds, legalConditions, language: o.language });
        const accepted: ConsentRecord = {
          ...shown,
          event: 'accepted',
          at: new Date().toISOString(),
          legalConditions: legalConditions.map((l) => ({
            ...l,
            title: shown.legalConditions.find((x) => x.id === l.id)?.title ?? null,
          })),
          documents: shown.documents.filter((d) => documentIds.includes(d.documentId)),
          approvalAttemptId: r.attemptId,
        };
        await s.report(accepted);
        if (r.status === 'confirmation_required') {
          s.clocks.confirmationAt = Date.now();
          s.clocks.passcodeSentAt = Date.now();
        }
        s.apply(r);
        return a;
      }),
    {
      validator: (req: UpdateArg<typeof approveUpdate>) => {
        s.phaseIs('awaiting_approval');
        s.within(a.windows.approveBy, `the ${String(o.approvalWindow)} approval window`);
        if (!s.shown)
          throw refuse('wrongState', 'get the signature details (and show them to the client) before approving');
        for (const l of req.legalConditions ?? []) {
          if (!s.shown.legalConditions.some((x) => x.id === l.id && x.version === l.version)) {
            throw refuse('wrongState', `legal condition ${l.id}@${l.version} was not the version shown to the client`);
          }
        }
      },
    },
  );
  setHandler(
    confirmUpdate,
    (req) =>
      s.step(async () => {
        s.apply(await flNow.fourthlineConfirm({ signatureId, passcodeRef: req.passcodeRef }));
        return a;
      }),
    {
      validator: (_req: unknown) => {
        s.phaseIs('awaiting_confirmation');
        s.within(a.windows.confirmBy, `the ${String(o.confirmationWindow)} confirmation window`);
        s.within(a.windows.passcodeValidUntil, `the passcode's ${String(o.passcodeValidity)} validity`);
      },
    },
  );
  setHandler(
    resendPasscodeUpdate,
    () =>
      s.step(async () => {
        await flNow.fourthlineResendPasscode({ signatureId, resendsDone: a.passcodeResends });
        a.passcodeResends++;
        s.clocks.passcodeSentAt = Date.now();
        s.refreshWindows();
        void s.report();
        return a;
      }),
    {
      validator: () => {
        s.phaseIs('awaiting_confirmation');
        if (a.passcodeResends >= FOURTHLINE_MAX_RESENDS)
          throw refuse('windowClosed', `the passcode can be resent at most ${FOURTHLINE_MAX_RESENDS} times`);
        s.within(a.windows.confirmBy, `the ${String(o.confirmationWindow)} confirmation window`);
      },
    },
  );
  setHandler(
    uploadSelfieUpdate,
    (req) =>
      s.step(async () => {
        const r = await flNow.fourthlineUploadSelfie({ signatureId, selfieRef: req.selfieRef });
        s.evidence.push(req.selfieRef);
        s.apply(r);
        return a;
      }),
    {
      validator: (_req: unknown) => {
        s.phaseIs('awaiting_selfie');
        s.within(a.windows.selfieBy, `the ${String(o.selfieWindow)} selfie window`);
      },
    },
  );
}
