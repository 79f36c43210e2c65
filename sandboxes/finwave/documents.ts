/** What the Finwave sandbox hands out for an onboarding: the result JSON and the evidence ZIP. */
import { zip } from '../framework/zip';
import type { Onboarding } from './types';

// The smallest well-formed JPEG header + end marker: stands in for document photos and selfies.
const FAKE_JPEG = Buffer.from('ffd8ffe000104a46494600010100000100010000ffd9', 'hex');

export function onboardingResult(o: Onboarding): Record<string, unknown> {
  const ended = o.status === 'FINISHED';
  const s = o.scenario;
  const ts = (t: number | null) =>
    t ? { date: new Date(t).toISOString().replace('T', ' ').slice(0, 19), timestamp: t } : null;
  const prefix = o.onboardingId;
  return {
    status: o.status,
    onboardingId: o.onboardingId,
    customId: o.customId,
    processStatus: {
      score: ended ? (s === 'low-score' ? 12 : s === 'biometry-failed' ? 41 : 93) : null,
      steps: {
        acceptation: ended ? s !== 'acceptation-declined' : null,
        ocr: ended ? s !== 'ocr-failed' : null,
        biometry: ended ? s !== 'biometry-failed' : null,
        sms: o.phoneStep && ended ? true : null,
      },
      startedAt: ts(o.startedAt),
      finishedAt: ts(o.finishedAt),
      errorEvent: o.errorEvent,
    },
    acceptations: o.acceptations.map((a) => ({
      text: a.text,
      accepted: ended ? s !== 'acceptation-declined' || !a.mandatory : false,
      mandatory: a.mandatory,
    })),
    evidences: ended
      ? {
          fullVideo: `${prefix}-VIDEO.mp4`,
          biometryBlink: `${prefix}-BLINK.jpg`,
          biometrySmile: `${prefix}-SMILE.jpg`,
          idDocumentFront: `${prefix}-FRONT.jpg`,
          idDocumentReverse: `${prefix}-REVERSE.jpg`,
          biometryTargetImage: `${prefix}-SELFIE.jpg`,
        }
      : {},
    ocr: ended
      ? {
          types: [
            {
              name: 'IDCARD',
              probability: 0.91,
              year: '2007-2009',
              country: 'PRT',
              id: 'PRT_IDCARD_2007-2009',
              side: 'A',
            },
          ],
          fields: [
            {
              name: 'DOCUMENT_NUMBER',
              sources: [
                {
                  source: 'VISUAL',
                  value: o.person?.documentNumber ?? '008390126ZX2',
                  original_value: o.person?.documentNumber ?? '00839012 6ZX2',
                  probability: 0.9,
                },
              ],
              value: o.person?.documentNumber ?? '008390126ZX2',
              validity_status: true,
              status: true,
            },
            ...(o.person?.name
              ? [
                  {
                    name: 'NAME',
                    sources: [
                      { source: 'VISUAL', value: o.person.name, original_value: o.person.name, probability: 0.9 },
                    ],
                    value: o.person.name,
                    validity_status: true,
                    status: true,
                  },
                ]
              : []),
          ],
          images: [{ name: 'PORTRAIT', value: FAKE_JPEG.toString('base64') }],
          authenticity: [{ name: 'PATTERN_CHECKS', value: s !== 'ocr-failed' }],
          validations: [{ name: 'OVERALL', value: s !== 'ocr-failed' }],
        }
      : null,
    biometry: ended
      ? { score: s === 'biometry-failed' ? 41.2 : 99.78, blink: { success: true }, smile: { success: true } }
      : null,
    smsEvents: [],
    logs: o.logs.map((l) => ({ date: new Date(l.timestamp).toISOString(), ...l })),
    userAgent: { os: 'Sandbox OS', device: 'Sandbox', address: '127.0.0.1', browser: 'Sandbox' },
  };
}

export function evidenceZip(o: Onboarding): Buffer {
  const ev = (onboardingResult(o).evidences ?? {}) as Record<string, string>;
  const files = Object.values(ev).map((name) => ({ name, data: FAKE_JPEG }));
  files.push({ name: `${o.onboardingId}.json`, data: Buffer.from(JSON.stringify(onboardingResult(o))) });
  return zip(files);
}
