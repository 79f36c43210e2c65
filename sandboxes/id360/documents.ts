/** What the ID360 sandbox derives from an enrollment: its steps, its report (JSON and PDF); upload sniffing. */
import { ID360_SAMPLE_IDENTITY, identityOf, type Enrollment } from './types';

export function stepsStatus(e: Enrollment): Record<string, string> {
  const done = (b: boolean) => (b ? 'DONE' : 'TODO');
  const pages = e.totalPages !== null && Object.keys(e.pages).length === e.totalPages;
  return {
    route_selection: done(e.selectedRoute !== null),
    consent: done(e.consent.cgu),
    id_document: done(pages),
    selfie: e.selfie ? 'DONE' : e.consent.biometry ? 'TODO' : 'SKIPPED',
    finalize: done(e.finalized),
  };
}

export function report(e: Enrollment, draft: boolean): Record<string, unknown> {
  const verdict = e.status === 'OK' || e.status === 'KO';
  const checks: { name: string; result: string; score?: number }[] = [];
  if (verdict || draft) {
    const ok = e.status === 'OK' || (draft && e.status !== 'KO');
    checks.push({ name: 'document_authenticity', result: ok || e.reason !== 'VLD_VALIDATION_KO' ? 'OK' : 'KO' });
    if (e.selfie)
      checks.push({
        name: 'face_match',
        result: e.reason === 'MDL_CHALLENGE_NOT_MET' ? 'KO' : 'OK',
        score: e.reason === 'MDL_CHALLENGE_NOT_MET' ? 0.21 : 0.97,
      });
    for (const [name, c] of Object.entries(e.comparisons)) {
      const same =
        c.value.trim().toLowerCase() ===
        String(identityOf(e)[name as keyof typeof ID360_SAMPLE_IDENTITY]).toLowerCase();
      checks.push({ name: `data_comparison.${name}`, result: same ? 'OK' : 'KO' });
    }
  }
  return {
    id: e.id,
    status: e.status,
    reason: e.reason,
    draft,
    client_reference: e.clientReference,
    creation_time: new Date(e.creationTime).toISOString(),
    finished_time: e.finishedTime ? new Date(e.finishedTime).toISOString() : null,
    route: { id: e.routeId, name: 'Docaposte customizable online process' },
    steps_status: stepsStatus(e),
    checks,
    extracted_data:
      verdict || draft
        ? {
            identity: [
              {
                name: identityOf(e).name,
                first_names: [identityOf(e).first_name],
                birth_date: identityOf(e).birth_date,
                document_number: identityOf(e).document_number,
              },
            ],
          }
        : null,
    documents: [
      ...Object.entries(e.pages).map(([page, p]) => ({
        type: 'id_document_image',
        page: Number(page),
        format: p.format,
        size: p.size,
      })),
      ...(e.selfie ? [{ type: 'selfie_image_upload', page: 0, format: e.selfie.format, size: e.selfie.size }] : []),
    ],
  };
}

export function reportPdf(e: Enrollment): Buffer {
  return minimalPdf(`ID360 sandbox report - enrollment ${e.id} - ${e.status}${e.reason ? ` (${e.reason})` : ''}`);
}
/** A one-page PDF with a line of text: enough for a reader and for `%PDF` sniffing. */
function minimalPdf(text: string): Buffer {
  const safe = text.replace(/[()\\]/g, '');
  const stream = `BT /F1 12 Tf 50 750 Td (${safe}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/** jpg / png / pdf / heic by their magic bytes, or null. */
export function sniffFormat(b: Buffer): 'jpg' | 'png' | 'pdf' | 'heic' | null {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpg';
  if (b.length >= 8 && b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])))
    return 'png';
  if (b.length >= 5 && b.subarray(0, 5).toString('latin1') === '%PDF-') return 'pdf';
  if (
    b.length >= 12 &&
    b.subarray(4, 8).toString('latin1') === 'ftyp' &&
    /^(heic|heix|hevc|heim|heis|mif1|msf1)$/.test(b.subarray(8, 12).toString('latin1'))
  )
    return 'heic';
  return null;
}
