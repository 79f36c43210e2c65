/** Pure Finwave pieces: the outcome decision, ids, webhook tokens, the sandbox ZIP. */
import { decideFinwaveOutcome, FINWAVE_DEFAULTS } from '../../workflows/finwave';
import { parseVerificationId, verificationId } from '../../workflows/shared';
import { verifyWebhookToken, webhookToken, webhookUrl } from '../../config/webhook-token';
import { zip, zipEntryNames, crc32 } from '../../sandboxes/framework/zip';

const passed = {
  score: 90,
  steps: { ocr: true, biometry: true, sms: null },
  errorEvent: null,
  acceptations: [{ text: 't', accepted: true, mandatory: true }],
};

test('the outcome of a FINISHED onboarding', () => {
  expect(decideFinwaveOutcome(passed, 50)).toEqual({ outcome: 'approved', reason: 'all steps passed with score 90' });
  expect(decideFinwaveOutcome({ ...passed, errorEvent: 'OCR_ERROR' }, 0).reason).toBe('Finwave reported OCR_ERROR');
  expect(decideFinwaveOutcome({ ...passed, steps: { ocr: false, biometry: false } }, 0).reason).toBe(
    'step(s) failed: ocr, biometry',
  );
  expect(
    decideFinwaveOutcome({ ...passed, acceptations: [{ text: 't', accepted: false, mandatory: true }] }, 0).outcome,
  ).toBe('rejected');
  expect(
    decideFinwaveOutcome({ ...passed, acceptations: [{ text: 't', accepted: false, mandatory: false }] }, 0).outcome,
  ).toBe('approved');
  expect(decideFinwaveOutcome({ ...passed, score: 49 }, 50).reason).toBe('score 49 is below the minimum 50');
  expect(decideFinwaveOutcome({ ...passed, score: null }, 0).reason).toBe('score missing is below the minimum 0');
});

test('Finwave defaults', () => {
  expect(FINWAVE_DEFAULTS).toEqual({ pollInterval: '15 minutes', deadline: '72 hours', minScore: 50 });
});

test('workflow ids derive from provider + reference and parse back', () => {
  expect(verificationId('finwave', 'order-42')).toBe('finwave:order-42');
  expect(parseVerificationId('finwave:order-42')).toEqual({
    provider: 'finwave',
    reference: 'order-42',
    tenant: 'default',
  });
  expect(parseVerificationId('finwave:a:b')).toBeNull();
  expect(parseVerificationId('nocolon')).toBeNull();
  expect(parseVerificationId(':x')).toBeNull();
});

test('webhook tokens are per verification and per secret', () => {
  const secret = 'x'.repeat(32);
  const t = webhookToken(secret, 'finwave', 'finwave:a');
  expect(verifyWebhookToken(secret, 'finwave', 'finwave:a', t)).toBe(true);
  expect(verifyWebhookToken(secret, 'finwave', 'finwave:b', t)).toBe(false);
  expect(verifyWebhookToken('y'.repeat(32), 'finwave', 'finwave:a', t)).toBe(false);
  expect(verifyWebhookToken(secret, 'finwave', 'finwave:a', t.slice(1))).toBe(false);
  expect(webhookUrl('https://api.example.com', secret, 'finwave', 'finwave:a')).toBe(
    `https://api.example.com/webhooks/finwave/finwave%3Aa/${t}`,
  );
});

test('the sandbox ZIP is a valid archive', () => {
  expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926); // the standard CRC-32 check value
  const z = zip([
    { name: 'a.jpg', data: Buffer.from('x') },
    { name: 'b.json', data: Buffer.from('{}') },
  ]);
  expect(z.readUInt32LE(0)).toBe(0x04034b50);
  expect(zipEntryNames(z)).toEqual(['a.jpg', 'b.json']);
});
