/** The documents the Fourthline sandbox hands out: signed PDFs and the CDD report ZIP. */
import { zip } from '../framework/zip';
import type { FourthlineCase, FourthlineSignature } from './types';

// The smallest well-formed JPEG header + end marker: stands in for ID document photos.
const FAKE_JPEG = Buffer.from('ffd8ffe000104a46494600010100000100010000ffd9', 'hex');

export function signedPdf(s: FourthlineSignature, documentId: string): Buffer | null {
  const d = s.documents.find((x) => x.documentId === documentId);
  if (!d) return null;
  return Buffer.concat([
    d.bytes,
    Buffer.from(`\n%% Signed by the QTSP for signature ${s.signatureId} (sandbox)\n%%EOF\n`),
  ]);
}

export function cddReport(c: FourthlineCase): Buffer {
  return zip([
    {
      name: `${c.verificationId}/cdd-report.json`,
      data: Buffer.from(JSON.stringify({ verificationId: c.verificationId, status: c.status, riskScore: c.riskScore })),
    },
    { name: `${c.verificationId}/id-document.jpg`, data: FAKE_JPEG },
  ]);
}
