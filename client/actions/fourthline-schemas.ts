/** The Fourthline actions' request bodies and answers (client/actions/fourthline.ts), as the OpenAPI document shows them. */
import { z } from 'zod';
import { errorSchema, isBase64 } from '../schemas';

export const UPLOAD_LIMIT = 15 * 1024 * 1024;
const base64 = z.string().min(4).max(UPLOAD_LIMIT).refine(isBase64, 'must be base64');

export const identityBody = z
  .object({
    person: z
      .object({
        firstName: z.string().min(1).max(100),
        lastName: z.string().min(1).max(100),
        birthDate: z
          .string()
          .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD')
          .optional(),
      })
      .strict(),
    address: z
      .object({
        street: z.string().max(200).optional(),
        postalCode: z.string().max(20).optional(),
        city: z.string().min(1).max(100),
        countryCode: z.string().regex(/^[A-Z]{3}$/, 'must be ISO 3166 alpha-3, e.g. FRA'),
      })
      .strict(),
    emailAndPhone: z
      .object({
        email: z.email('must be an email address').max(254),
        phone: z
          .string()
          .regex(/^\+\d{8,15}$/, 'must be E.164, e.g. +33612345678')
          .optional(),
      })
      .strict(),
    files: z
      .array(
        z
          .object({
            type: z.enum(['id_document_front', 'id_document_back', 'selfie', 'proof_of_address']),
            contentType: z.enum(['image/jpeg', 'image/png', 'application/pdf']),
            contentBase64: base64,
          })
          .strict(),
      )
      .min(1)
      .max(6),
  })
  .strict()
  .describe('Identity data (person, address and emailAndPhone are required) and identity files as base64');
export const documentsBody = z
  .object({
    documents: z
      .array(
        z
          .object({
            name: z.string().regex(/^[\w .()-]{1,100}$/, 'must be a plain file name'),
            contentBase64: base64.describe('the PDF, base64'),
          })
          .strict(),
      )
      .min(1)
      .max(10),
  })
  .strict();
export const mobileBody = z
  .object({ mobileNumber: z.string().regex(/^\+\d{8,15}$/, 'must be E.164, e.g. +33612345678') })
  .strict();
export const approveBody = z
  .object({
    legalConditions: z
      .array(z.object({ id: z.string().max(100), version: z.string().max(50) }).strict())
      .min(1)
      .optional()
      .describe('defaults to the versions shown by signature-details'),
    documentIds: z.array(z.string().max(100)).min(1).optional().describe('defaults to every document shown'),
  })
  .strict();
export const confirmBody = z
  .object({ passcode: z.string().regex(/^\d{4,8}$/, 'must be the digits from the SMS') })
  .strict();
export const selfieBody = z
  .object({ contentType: z.enum(['image/jpeg', 'image/png']), contentBase64: base64 })
  .strict();

const windows = z.object({
  approveBy: z.string().nullable(),
  confirmBy: z.string().nullable(),
  passcodeValidUntil: z.string().nullable(),
  selfieBy: z.string().nullable(),
  errorAt: z.string().nullable(),
});
export const attemptSchema = z.object({
  attempt: z.number(),
  signatureId: z.string(),
  workflowId: z.string(),
  phase: z.string(),
  providerStatus: z.string().nullable(),
  outcome: z.string().nullable(),
  reason: z.string().nullable(),
  windows,
  passcodeResends: z.number(),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
});
export const consentRecord = z.object({
  attempt: z.number(),
  signatureId: z.string(),
  clientId: z.string(),
  event: z.enum(['shown', 'accepted']),
  at: z.string(),
  language: z.string(),
  legalConditions: z.array(z.object({ id: z.string(), version: z.string(), title: z.string().nullable() })),
  documents: z.array(z.object({ documentId: z.string(), name: z.string() })),
  approvalAttemptId: z.string().nullable(),
});
export const attemptResponse = z.object({ attempt: attemptSchema });
export const caseResponse = z.object({
  stage: z.string(),
  flow: z.string(),
  verificationId: z.string().nullable(),
  clientId: z.string().nullable(),
  caseStatus: z.string().nullable(),
  riskScore: z.number().nullable(),
  current: attemptSchema.nullable(),
  attempts: z.array(attemptSchema),
});
export const actionErrors = {
  400: errorSchema,
  401: errorSchema,
  404: errorSchema,
  409: errorSchema,
  422: errorSchema,
};
