/**
 * The qualified electronic signature: documents, mobile number, details, approval, passcode
 * confirmation and resend, selfie, status and the signed documents. Each state-changing step first
 * learns whether an earlier, unanswered call already went through (index.ts, Idempotency).
 */
import { z } from 'zod';
import { ApplicationFailure } from '@temporalio/common';
import type { EvidenceRef } from '../evidence-types';
import type { EvidenceStore } from '../evidence-store';
import {
  attemptResponse,
  FOURTHLINE_MAX_RESENDS,
  type approvalRequest,
  type documentsRequest,
  type FourthlineSignatureStatus,
  type mobileNumberRequest,
} from './api';
import { isRetry, type FourthlineClient, type FourthlineSignatureSummary } from './client';

/** What the workflow keeps of the signature details: no mobile number. */
export interface FourthlineSignatureDetails {
  status: FourthlineSignatureStatus;
  clientId: string;
  documents: { documentId: string; name: string }[];
  legalConditions: { id: string; version: string; language: string | null; title: string | null }[];
  passcode: {
    length: number | null;
    validitySeconds: number | null;
    sentAt: string | null;
    resendsLeft: number | null;
  };
}

export function fourthlineSignatureActivities(fl: FourthlineClient, store: EvidenceStore) {
  return {
    async fourthlineUploadDocuments(input: {
      signatureId: string;
      documents: { name: string; ref: EvidenceRef }[];
    }): Promise<void> {
      // Ask first, on every attempt of every activity, not only on a retry: the upload leaves the status
      // `pending`, so nothing else shows it went through. A step whose activity ran out of attempts after
      // Fourthline took the documents (answer lost, retries failing) fails; the integrator asks again and
      // that new activity starts at attempt 1, so it must not send the documents a second time.
      const details = await fl.signatureDetails(input.signatureId);
      const there = details.documents.map((d) => d.name).sort();
      const wanted = input.documents.map((d) => d.name).sort();
      if (there.length === wanted.length && there.every((n, i) => n === wanted[i])) return;
      const documents = await Promise.all(
        input.documents.map(async (d) => ({
          name: d.name,
          contentBase64: (await fl.readBytes(d.ref)).toString('base64'),
        })),
      );
      await fl.call(
        'uploadDocuments',
        { id: input.signatureId },
        { json: { documents } satisfies z.input<typeof documentsRequest>, timeoutMs: 120_000 },
      );
    },

    async fourthlineUploadMobileNumber(input: {
      signatureId: string;
      mobileRef: EvidenceRef;
    }): Promise<FourthlineSignatureSummary> {
      if (isRetry()) {
        // The first attempt's answer may have been lost after Fourthline took the number: the
        // signature then left `pending` (consent, selfie, kyc or error); that status is the answer.
        const now = await fl.signatureStatus(input.signatureId);
        if (now.status !== 'pending') return now;
      }
      const { mobileNumber } = await fl.readJson(input.mobileRef, z.object({ mobileNumber: z.string() }));
      try {
        await fl.call(
          'uploadMobileNumber',
          { id: input.signatureId },
          { json: { mobileNumber } satisfies z.input<typeof mobileNumberRequest> },
        );
      } catch (err) {
        // The user's repeated action after an earlier one ran out of attempts with its answers lost (a new
        // activity, attempt 1, skips the read above): 422 INVALID_STATUS once the signature left `pending`
        // means Fourthline took the number, as for approve and confirm.
        const now = await fl.movedOnAfter(err, input.signatureId, 'pending');
        if (now) return now;
        throw err;
      }
      return fl.signatureStatus(input.signatureId);
    },

    async fourthlineGetSignatureDetails(input: {
      signatureId: string;
      language: string;
    }): Promise<FourthlineSignatureDetails> {
      const body = await fl.signatureDetails(input.signatureId, `?language=${encodeURIComponent(input.language)}`);
      return {
        status: body.status,
        clientId: body.clientId,
        documents: body.documents.map((d) => ({ documentId: d.documentId, name: d.name })),
        legalConditions: body.legalConditions.map((l) => ({
          id: l.id,
          version: l.version,
          language: l.language ?? null,
          title: l.title ?? null,
        })),
        passcode: {
          length: body.passcode?.length ?? null,
          validitySeconds: body.passcode?.validitySeconds ?? null,
          sentAt: body.passcode?.sentAt ?? null,
          resendsLeft: body.passcode?.resendsLeft ?? null,
        },
      };
    },

    async fourthlineApprove(input: {
      signatureId: string;
      documentIds: string[];
      legalConditions: { id: string; version: string }[];
      language: string;
    }): Promise<{ attemptId: string | null } & FourthlineSignatureSummary> {
      if (isRetry()) {
        // The first attempt's answer may have been lost after Fourthline approved: ask first.
        const now = await fl.signatureStatus(input.signatureId);
        if (now.status !== 'user_consent_required') return { attemptId: null, ...now };
      }
      let body: { attemptId: string };
      try {
        ({ body } = await fl.call(
          'approve',
          { id: input.signatureId },
          {
            json: {
              documentIds: input.documentIds,
              legalConditions: input.legalConditions,
              language: input.language,
            } satisfies z.input<typeof approvalRequest>,
            schema: attemptResponse,
          },
        ));
      } catch (err) {
        // The user's repeated action after an earlier one ran out of attempts with its answers lost (a new
        // activity, attempt 1): Fourthline answers 422 INVALID_STATUS once it moved on.
        const now = await fl.movedOnAfter(err, input.signatureId, 'user_consent_required');
        if (now) return { attemptId: null, ...now };
        throw err;
      }
      return { attemptId: body.attemptId, ...(await fl.signatureStatus(input.signatureId)) };
    },

    /**
     * The passcode comes through the store (never in history). It is deleted once the step is
     * decided (confirmed, or refused by Fourthline), and kept on a retryable failure: the retry
     * needs it, unless reading the status shows the first attempt already confirmed.
     */
    async fourthlineConfirm(input: {
      signatureId: string;
      passcodeRef: EvidenceRef;
    }): Promise<{ attemptId: string | null } & FourthlineSignatureSummary> {
      const forget = () => store.delete(input.passcodeRef.sha256);
      if (isRetry()) {
        const now = await fl.signatureStatus(input.signatureId);
        if (now.status !== 'confirmation_required') {
          await forget();
          return { attemptId: null, ...now };
        }
      }
      const { passcode } = await fl.readJson(input.passcodeRef, z.object({ passcode: z.string() }));
      let body: { attemptId: string };
      try {
        ({ body } = await fl.call(
          'confirm',
          { id: input.signatureId },
          { json: { passcode }, schema: attemptResponse },
        ));
      } catch (err) {
        // As approve: a repeated confirm after the first one went through meets 422 INVALID_STATUS.
        const now = await fl.movedOnAfter(err, input.signatureId, 'confirmation_required');
        if (now) {
          await forget();
          return { attemptId: null, ...now };
        }
        if (err instanceof ApplicationFailure && err.nonRetryable) await forget(); // refused: this passcode is spent
        throw err;
      }
      await forget();
      return { attemptId: body.attemptId, ...(await fl.signatureStatus(input.signatureId)) };
    },

    /**
     * `resendsDone`: how many resends the workflow already made before this one (when absent: no
     * check). A retry whose first attempt went through sees one resend more spent at Fourthline than
     * that, and does not send a second SMS.
     */
    async fourthlineResendPasscode({
      signatureId,
      resendsDone,
    }: {
      signatureId: string;
      resendsDone?: number;
    }): Promise<void> {
      if (isRetry() && resendsDone !== undefined) {
        const left = (await fl.signatureDetails(signatureId)).passcode?.resendsLeft ?? null;
        if (left !== null && FOURTHLINE_MAX_RESENDS - left > resendsDone) return;
      }
      await fl.call('resendPasscode', { id: signatureId });
    },

    async fourthlineUploadSelfie(input: {
      signatureId: string;
      selfieRef: EvidenceRef;
    }): Promise<FourthlineSignatureSummary> {
      if (isRetry()) {
        // The first attempt's answer may have been lost after Fourthline took the selfie: the
        // signature then left `selfie_required`; that status is the answer (no second upload).
        const now = await fl.signatureStatus(input.signatureId);
        if (now.status !== 'selfie_required') return now;
      }
      const bytes = await fl.readBytes(input.selfieRef);
      await fl.call(
        'uploadSelfie',
        { id: input.signatureId },
        { json: { contentBase64: bytes.toString('base64') }, timeoutMs: 120_000 },
      );
      return fl.signatureStatus(input.signatureId);
    },

    async fourthlineGetSignatureStatus({ signatureId }: { signatureId: string }): Promise<FourthlineSignatureSummary> {
      return fl.signatureStatus(signatureId);
    },

    /** Each signed PDF, then the InfoCert contract when there is one (204 = signed at the primary QTSP, no contract). */
    async fourthlineDownloadSigned(input: {
      signatureId: string;
      documentIds: string[];
    }): Promise<{ documents: EvidenceRef[]; contract: EvidenceRef | null }> {
      const documents: EvidenceRef[] = [];
      for (const documentId of input.documentIds) {
        const { raw } = await fl.call(
          'getSignedDocument',
          { id: input.signatureId, documentId },
          { timeoutMs: 120_000 },
        );
        documents.push(await store.put('fourthline-signed-document', 'application/pdf', raw));
      }
      const contract = await fl.call('getInfoCertContract', { id: input.signatureId }, { timeoutMs: 120_000 });
      return {
        documents,
        contract:
          contract.status === 200 && contract.raw.length
            ? await store.put('fourthline-infocert-contract', 'application/pdf', contract.raw)
            : null,
      };
    },
  };
}
