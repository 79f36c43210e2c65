/** The personal-data settings: payload keys (and production's refusal without them), codec, retention; the development key. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../config';
import { retentionFor } from '../../config/personal-data';
import { describeKeyring, resolvePayloadKeyring } from '../../codec';

const key = (n: number) => Buffer.alloc(32, n).toString('base64');
const prod = {
  APP_ENV: 'production',
  API_KEYS: 'backend:0123456789abcdef0123',
  WEBHOOK_SECRET: 's'.repeat(40),
  PUBLIC_BASE_URL: 'https://idv.example.com',
  FINWAVE_BASE_URL: 'https://idgateway.finwave.com/management',
  FINWAVE_CLIENT_TOKEN: 'real-token',
};

test('production refuses to start without payload keys, with one line naming the variable', () => {
  expect(() => loadConfig(prod)).toThrow(
    new ConfigError('PAYLOAD_KEYS', 'is required in production (workflow payloads hold personal data)'),
  );
  expect(() => loadConfig({ ...prod, PAYLOAD_KEYS: `k1:${key(1)}` })).toThrow(
    new ConfigError(
      'AUDIT_KEYS',
      'is required in production (the audit log names end users; its key never rotates out with PAYLOAD_KEYS)',
    ),
  );
  const c = loadConfig({ ...prod, PAYLOAD_KEYS: `k1:${key(1)}`, AUDIT_KEYS: `a1:${key(5)}` });
  expect(c.personalData.payloadKeys).toEqual({ keys: [{ id: 'k1', key: Buffer.alloc(32, 1) }], current: 'k1' });
  expect(c.personalData.auditKeys).toEqual({ keys: [{ id: 'a1', key: Buffer.alloc(32, 5) }], current: 'a1' });
});

test.each([
  [{ PAYLOAD_KEYS: 'k1' }, 'PAYLOAD_KEYS must be a comma list of keyId:key'],
  [{ PAYLOAD_KEYS: `k1:${Buffer.alloc(16).toString('base64')}` }, 'PAYLOAD_KEYS must be a comma list'],
  [{ PAYLOAD_KEYS: `k1:${key(1)},k1:${key(2)}` }, 'PAYLOAD_KEYS must be a comma list of keyId:key with distinct ids'],
  [
    { PAYLOAD_KEYS: `k1:${key(1)},k2:${key(2)}` },
    'PAYLOAD_CURRENT_KEY is required when PAYLOAD_KEYS holds several keys',
  ],
  [
    { PAYLOAD_KEYS: `k1:${key(1)}`, PAYLOAD_CURRENT_KEY: 'k9' },
    'PAYLOAD_CURRENT_KEY must be a key id from PAYLOAD_KEYS',
  ],
  [{ PAYLOAD_CURRENT_KEY: 'k1' }, 'PAYLOAD_KEYS is required when PAYLOAD_CURRENT_KEY is set'],
  [{ AUDIT_KEYS: `a1:${key(1)},a2:${key(2)}` }, 'AUDIT_CURRENT_KEY is required when AUDIT_KEYS holds several keys'],
  [{ AUDIT_CURRENT_KEY: 'a1' }, 'AUDIT_KEYS is required when AUDIT_CURRENT_KEY is set'],
  [{ AUDIT_DATABASE_URL: 'mysql://x' }, 'AUDIT_DATABASE_URL must be a postgres:// URL'],
  [{ CODEC_TLS_CERT: 'cert.pem' }, 'CODEC_TLS_KEY is required when CODEC_TLS_CERT is set'],
  [{ CODEC_UI_ORIGIN: 'http://localhost:8233/ui' }, 'CODEC_UI_ORIGIN must be an origin'],
  [{ CODEC_KEY_IDS: 'nobody' }, 'CODEC_KEY_IDS must name key ids from API_KEYS'],
  [{ EVIDENCE_RETENTION: '*-selfie:90 days' }, 'EVIDENCE_RETENTION must be a comma list of kind:duration'],
])('%j is refused naming the variable', (env, message) => {
  expect(() => loadConfig(env as Record<string, string>)).toThrow(`Configuration error: ${message}`);
});

test('rotation: several keys, the current one named; keys never appear in an error', () => {
  const c = loadConfig({ PAYLOAD_KEYS: `old:${key(1)},new:${key(2)}`, PAYLOAD_CURRENT_KEY: 'new' });
  expect(c.personalData.payloadKeys!.current).toBe('new');
  expect(() => loadConfig({ PAYLOAD_KEYS: `k1:${key(1)},k1:${key(1)}` })).not.toThrow(key(1));
});

test('retention: an exact kind wins, then the most specific pattern, then `*` (5 years by default)', () => {
  const rules = loadConfig({ EVIDENCE_RETENTION: '*-selfie:90d,fourthline-selfie:30d,id360-*:12h' }).personalData
    .retention;
  const day = 86_400_000;
  expect(retentionFor(rules, 'fourthline-selfie')).toBe(30 * day);
  expect(retentionFor(rules, 'id360-selfie')).toBe(90 * day); // "-selfie" is more specific than "id360-"
  expect(retentionFor(rules, 'id360-report-pdf')).toBe(12 * 3_600_000);
  expect(retentionFor(rules, 'finwave-evidence-zip')).toBe(1825 * day);
  expect(retentionFor(loadConfig({ EVIDENCE_RETENTION: '*:10d' }).personalData.retention, 'anything')).toBe(10 * day);
});

test('without keys, development generates one key file once and every process reuses it; it says so', () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'idv-devkey-')), 'data', 'dev-payload-key.json');
  const config = loadConfig({});
  const first = resolvePayloadKeyring(config, file);
  expect(first.generated).toBe(file);
  expect((fs.statSync(file).mode & 0o777).toString(8)).toBe('600');
  const second = resolvePayloadKeyring(config, file);
  expect(second.generated).toBeUndefined();
  expect(second.keyring.current).toBe(first.keyring.current);
  expect(second.keyring.keys.get(second.keyring.current)!.equals(first.keyring.keys.get(first.keyring.current)!)).toBe(
    true,
  );
  expect(describeKeyring(first)).toContain('development key generated now');
  expect(describeKeyring(first)).not.toContain(first.keyring.keys.get(first.keyring.current)!.toString('base64'));
  expect(() => resolvePayloadKeyring({ ...config, env: 'production' }, file)).toThrow(
    'PAYLOAD_KEYS is required in production',
  );
});
