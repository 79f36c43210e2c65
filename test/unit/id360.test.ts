/** Pure ID360 pieces: the outcome mapping, the sealed api_key, the sandbox's format sniffing, the settings. */
import { decideId360Outcome, ID360_DEFAULTS } from '../../workflows/id360';
import { openApiKey, sealApiKey } from '../../activities/id360-secrets';
import { id360UserLink, id360VendorUserUrl } from '../../activities/id360';
import { sniffFormat } from '../../sandboxes/id360';
import { ConfigError, loadConfig } from '../../config';
import { redactUrl } from '../../client/app';

test('the outcome of each final status', () => {
  expect(decideId360Outcome('OK', null)).toEqual({
    status: 'completed',
    outcome: 'approved',
    reason: 'ID360 verdict OK',
    restart: false,
  });
  expect(decideId360Outcome('KO', 'VLD_VALIDATION_KO')).toEqual({
    status: 'completed',
    outcome: 'rejected',
    reason: 'ID360 verdict KO (VLD_VALIDATION_KO)',
    restart: false,
  });
  expect(decideId360Outcome('FAILED', 'SEC_DATA_INJECTION')).toMatchObject({
    status: 'failed',
    outcome: 'error',
    restart: true,
  });
  expect(decideId360Outcome('CANCELED', null)).toMatchObject({
    status: 'failed',
    outcome: 'abandoned',
    reason: 'the enrollment was canceled',
  });
  expect(decideId360Outcome('CANCELED', 'ERL_TIMEOUT')).toMatchObject({ status: 'expired', outcome: 'expired' });
  expect(decideId360Outcome('DELETED', 'ERL_DELETE')).toMatchObject({
    status: 'failed',
    outcome: 'error',
    reason: 'ID360 deleted the enrollment (ERL_DELETE)',
  });
});

test('ID360 defaults', () => {
  expect(ID360_DEFAULTS).toEqual({ mode: 'api', pollInterval: '15 minutes', deadline: '25 hours' });
});

test('a sealed api_key opens only for its verification, with the right secret, untampered', () => {
  const secret = 's'.repeat(40);
  const sealed = sealApiKey(secret, 'id360:a', '0123456789abcdef0123456789abcdef');
  expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
  expect(sealed).not.toContain('0123456789abcdef');
  expect(openApiKey(secret, 'id360:a', sealed)).toBe('0123456789abcdef0123456789abcdef');
  expect(openApiKey(secret, 'id360:b', sealed)).toBeNull();
  expect(openApiKey('t'.repeat(40), 'id360:a', sealed)).toBeNull();
  const flipped = sealed.slice(0, -2) + (sealed.endsWith('A') ? 'BB' : 'AA');
  expect(openApiKey(secret, 'id360:a', flipped)).toBeNull();
  expect(openApiKey(secret, 'id360:a', 'v2.abc')).toBeNull();
  expect(openApiKey(secret, 'id360:a', 'garbage')).toBeNull();
  // Two seals of the same key differ (random IV).
  expect(sealApiKey(secret, 'id360:a', 'k'.repeat(32))).not.toBe(sealApiKey(secret, 'id360:a', 'k'.repeat(32)));
});

test('the browser links, and our request log keeps the credential out', () => {
  expect(id360UserLink('https://api.example.com', 'id360:r-1', 'v1.xyz')).toBe(
    'https://api.example.com/go/id360/id360%3Ar-1/v1.xyz',
  );
  expect(id360VendorUserUrl('https://preprod.id360docaposte.com', 'abc')).toBe(
    'https://preprod.id360docaposte.com/static/process_ui/index.html#/enrollment/abc',
  );
  expect(redactUrl('/go/id360/id360%3Ar-1/v1.secret')).toBe('/go/id360/…');
});

test('the sandbox sniffs formats from the bytes', () => {
  expect(sniffFormat(Buffer.from('ffd8ffe000', 'hex'))).toBe('jpg');
  expect(sniffFormat(Buffer.from('89504e470d0a1a0a00', 'hex'))).toBe('png');
  expect(sniffFormat(Buffer.from('%PDF-1.7'))).toBe('pdf');
  expect(sniffFormat(Buffer.concat([Buffer.from('00000018', 'hex'), Buffer.from('ftypheic')]))).toBe('heic');
  expect(sniffFormat(Buffer.from('GIF89a'))).toBeNull();
  expect(sniffFormat(Buffer.alloc(0))).toBeNull();
});

describe('settings', () => {
  const real = {
    ID360_BASE_URL: 'https://preprod.id360docaposte.com/',
    ID360_USERNAME: 'app-user',
    ID360_PASSWORD: 'app-password',
    ID360_PROCESS_ID: '0dd7e3c1-c4a4-41a2-8b09-0ec992e38e2a',
  };

  test('none: the local sandbox', () => {
    expect(loadConfig({}).vendors.id360).toEqual({
      baseUrl: 'http://127.0.0.1:8090/id360',
      username: 'sandbox-id360-application',
      password: 'sandbox-id360-password',
      processId: '5f0c9d3e-2b7a-4c1e-9a58-1d6e0f3b7c42',
      sandbox: true,
    });
  });

  test('all four: the real ID360', () => {
    expect(loadConfig(real).vendors.id360).toEqual({
      baseUrl: 'https://preprod.id360docaposte.com',
      username: 'app-user',
      password: 'app-password',
      processId: '0dd7e3c1-c4a4-41a2-8b09-0ec992e38e2a',
      sandbox: false,
    });
  });

  test.each(['ID360_USERNAME', 'ID360_PASSWORD', 'ID360_PROCESS_ID'])(
    'a partial set is refused, naming the missing %s',
    (missing) => {
      const env: Record<string, string> = { ...real };
      delete env[missing];
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(`${missing} is required when ID360_BASE_URL is set`);
    },
  );

  test('a malformed process id names the variable and never echoes a value', () => {
    expect(() => loadConfig({ ...real, ID360_PROCESS_ID: 'not-a-uuid' })).toThrow(
      'ID360_PROCESS_ID must be the process UUID shown in the ID360 admin UI',
    );
    try {
      loadConfig({ ...real, ID360_PASSWORD: 'short' });
    } catch (err) {
      expect((err as Error).message).toMatch(/^Configuration error: ID360_PASSWORD/);
      expect((err as Error).message).not.toContain('short');
    }
  });
});
