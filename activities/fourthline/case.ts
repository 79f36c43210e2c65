/** The identity verification case: create the workflow, upload identity data and files, process, read. */
import { z } from 'zod';
import { ApplicationFailure } from '@temporalio/common';
import { log } from '@temporalio/activity';
import type { EvidenceRef } from '../evidence-types';
import type { EvidenceStore } from '../evidence-store';
import { createsUnanswered, FAILURE_TYPES } from '../http';
import {
  workflowResponse,
  type createWorkflowRequest,
  type FourthlineWorkflowName,
  type identityFilesRequest,
} from './api';
import type { FourthlineCaseSummary, FourthlineClient } from './client';

/** The identity data document in the evidence store: the three parts Fourthline takes. */
const storedIdentity = z.object({
  person: z.record(z.string(), z.unknown()),
  address: z.record(z.string(), z.unknown()),
  emailAndPhone: z.record(z.string(), z.unknown()),
});

export function fourthlineCaseActivities(fl: FourthlineClient, store: EvidenceStore) {
  return {
    async fourthlineCreateWorkflow(input: {
      workflowName: FourthlineWorkflowName;
      clientReference: string;
      verificationId?: string;
    }): Promise<{ workflowId: string; clientId: string; createsUnanswered: number }> {
      const { body } = await fl.call(
        'createWorkflow',
        {},
        {
          json: { ...input } satisfies z.input<typeof createWorkflowRequest>,
          schema: workflowResponse,
          unansweredCreate: true,
        },
      );
      // Earlier attempts whose create went out unanswered: each may have left an untracked case at
      // Fourthline (no key, no look-up in the doc). The workflow records and flags them.
      const unanswered = createsUnanswered();
      log.info('Fourthline workflow created', {
        workflowId: body.workflowId,
        workflowName: input.workflowName,
        createsUnanswered: unanswered,
      });
      return { workflowId: body.workflowId, clientId: body.clientId, createsUnanswered: unanswered };
    },

    /** Identity data (a JSON document in the store) then the identity files; answers the case status. */
    async fourthlineUploadIdentity(input: {
      verificationId: string;
      identityRef: EvidenceRef;
      files: EvidenceRef[];
    }): Promise<FourthlineCaseSummary> {
      const id = input.verificationId;
      const before = await fl.getCase(id);
      // Retried after the files went through: the case has moved on, nothing to upload again.
      if (before.status !== 'new') return before;
      const identity = await fl.readJson(input.identityRef, storedIdentity);
      await fl.call('uploadIdentityData', { id }, { json: identity });
      const files = await Promise.all(
        input.files.map(async (f) => ({
          type: f.kind.replace(/^fourthline-identity-/, ''),
          contentType: f.contentType,
          contentBase64: (await fl.readBytes(f)).toString('base64'),
        })),
      );
      await fl.call(
        'uploadIdentityFiles',
        { id },
        { json: { files } satisfies z.input<typeof identityFilesRequest>, timeoutMs: 120_000 },
      );
      return fl.getCase(id);
    },

    async fourthlineStartProcessing({ verificationId }: { verificationId: string }): Promise<FourthlineCaseSummary> {
      const before = await fl.getCase(verificationId);
      if (before.status !== 'pending') return before;
      await fl.call('startProcessing', { id: verificationId });
      return fl.getCase(verificationId);
    },

    async fourthlineGetCase({ verificationId }: { verificationId: string }): Promise<FourthlineCaseSummary> {
      return fl.getCase(verificationId);
    },

    async fourthlineDownloadCddReport({ verificationId }: { verificationId: string }): Promise<EvidenceRef> {
      const { raw } = await fl.call('getCddReport', { id: verificationId }, { timeoutMs: 120_000 });
      if (raw.length < 4 || raw.readUInt32LE(0) !== 0x04034b50) {
        throw ApplicationFailure.create({
          message: 'Fourthline getCddReport: unexpected response, the body is not a ZIP file',
          type: FAILURE_TYPES.invalidResponse,
          nonRetryable: true,
        });
      }
      return store.put('fourthline-cdd-report', 'application/zip', raw);
    },
  };
}
