/** The Authenteq sandbox's fake identities: obviously fake, different per session (so tests can look for leaks). */
import crypto from 'node:crypto';

/** How a session passes: what its result says and shows. */
export interface AuthenteqPassOptions {
  nfcVerified?: boolean;
  addressProof?: boolean;
  documents?: 1 | 2 | 3;
  /** The user's identity on their first document (default: a fake SANDBOXDOE with a random number). */
  person?: { surname?: string; givenNames?: string; documentNumber?: string };
}

function fakeImage(kind: string): { contentType: string; content: string } {
  // A well-formed JPEG start and end marker around a few random bytes.
  const bytes = Buffer.concat([
    Buffer.from('ffd8ffe000104a464946', 'hex'),
    Buffer.from(kind),
    crypto.randomBytes(16),
    Buffer.from('ffd9', 'hex'),
  ]);
  return { contentType: 'image/jpeg', content: bytes.toString('base64') };
}

function fakeDocument(n: number): Record<string, unknown> {
  const number = `SBX${crypto.randomInt(10_000_000, 99_999_999)}`;
  const common = {
    documentNumber: number,
    surnameAndGivenNames: 'SANDBOXDOE JANE',
    surname: 'SANDBOXDOE',
    givenNames: 'JANE',
    sex: 'F',
    dateOfBirth: '1990-04-12',
    dateOfExpiry: '2031-04-11',
    dateOfIssue: '2021-04-12',
    croppedFrontImage: fakeImage(`front${n}`),
    faceImage: fakeImage(`face${n}`),
  };
  switch (n) {
    case 1:
      return {
        documentType: 'NID',
        issuingCountry: 'ESP',
        nationality: 'ESP',
        ...common,
        croppedBackImage: fakeImage('back1'),
      };
    case 2:
      return {
        documentType: 'DL',
        issuingCountry: 'USA',
        jurisdiction: 'UT',
        ...common,
        address: '430-985 SANDBOX ST^DULUTH WA 92611',
        licenseClass: 'B',
        licenseClassDetails: { B: { from: '2019-01-30', to: '2029-01-30' } },
        croppedBackImage: fakeImage('back2'),
      };
    default:
      return { documentType: 'PP', issuingCountry: 'DEU', nationality: 'DEU', ...common };
  }
}

function personFields(p: AuthenteqPassOptions['person']): Record<string, unknown> {
  if (!p) return {};
  return {
    ...(p.surname ? { surname: p.surname } : {}),
    ...(p.givenNames ? { givenNames: p.givenNames } : {}),
    ...(p.surname || p.givenNames ? { surnameAndGivenNames: [p.surname, p.givenNames].filter(Boolean).join(' ') } : {}),
    ...(p.documentNumber ? { documentNumber: p.documentNumber } : {}),
  };
}

export function fakeResult(
  status: 'PASSED' | 'FAILED',
  documents: number,
  opts: AuthenteqPassOptions,
): Record<string, unknown> {
  const end = new Date();
  const result: Record<string, unknown> = {
    id: crypto.randomUUID(),
    status,
    platform: 'WEB',
    startTime: new Date(end.getTime() - 150_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    endTime: end.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    livenessFaceImage: fakeImage('liveness'),
    documentData: { ...fakeDocument(1), ...personFields(opts.person) },
    nfcVerified: opts.nfcVerified ?? false,
  };
  if (documents >= 2) result.documentData2 = fakeDocument(2);
  if (documents >= 3) result.documentData3 = fakeDocument(3);
  if (opts.addressProof ?? true) {
    const pdf = Buffer.concat([
      Buffer.from('%PDF-1.4\n% sandbox address proof '),
      crypto.randomBytes(12),
      Buffer.from('\n%%EOF\n'),
    ]);
    result.addressProofDocument = { contentType: 'application/pdf', content: pdf.toString('base64') };
  }
  return result;
}
