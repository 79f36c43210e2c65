/** Configuration: one clear line naming the variable, sandbox defaults for a new user. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../config';

const expectConfigError = (env: Record<string, string>, message: string) => {
  expect(() => loadConfig(env)).toThrow(ConfigError);
  expect(() => loadConfig(env)).toThrow(message);
};

test('with no settings at all, every vendor is the local sandbox and the dev API key works', () => {
  const c = loadConfig({});
  expect(c.vendors.finwave).toEqual({
    baseUrl: 'http://127.0.0.1:8090/finwave/management',
    clientToken: 'sandbox-finwave-client-token',
    sandbox: true,
  });
  expect(c.temporal.address).toBe('localhost:7233');
  expect(c.temporal.namespace).toBe('default');
  expect(c.api.keys).toEqual([
    { id: 'local', token: 'dev-api-key', tenant: 'default', scopes: ['integrator', 'codec'] },
  ]);
  expect(c.api.rateLimits).toEqual({ perKey: 1200, perAddress: 300 });
  expect(c.notes.join('\n')).toContain('using the local sandbox');
});

test('Temporal settings come from the standard TEMPORAL_* variables', () => {
  const c = loadConfig({
    TEMPORAL_ADDRESS: 'my-ns.a1b2c.tmprl.cloud:7233',
    TEMPORAL_NAMESPACE: 'my-ns.a1b2c',
    TEMPORAL_API_KEY: 'k',
  });
  expect(c.temporal.address).toBe('my-ns.a1b2c.tmprl.cloud:7233');
  expect(c.temporal.namespace).toBe('my-ns.a1b2c');
  expect(c.temporal.connectionOptions.apiKey).toBe('k');
});

test('a real vendor needs both of its settings', () => {
  expectConfigError(
    { FINWAVE_BASE_URL: 'https://idgateway-dev.finwave.com/management' },
    'Configuration error: FINWAVE_CLIENT_TOKEN is required when FINWAVE_BASE_URL is set',
  );
  const c = loadConfig({
    FINWAVE_BASE_URL: 'https://idgateway-dev.finwave.com/management/',
    FINWAVE_CLIENT_TOKEN: 'secret-token',
  });
  expect(c.vendors.finwave).toEqual({
    baseUrl: 'https://idgateway-dev.finwave.com/management',
    clientToken: 'secret-token',
    sandbox: false,
  });
});

test.each([
  [{ API_PORT: 'eighty' }, 'API_PORT'],
  [{ API_PORT: '70000' }, 'API_PORT'],
  [{ PUBLIC_BASE_URL: 'not a url' }, 'PUBLIC_BASE_URL'],
  [{ API_KEYS: 'no-colon' }, 'API_KEYS must be a comma list of keyId:token'],
  [{ API_KEYS: 'ops:short' }, 'API_KEYS must be a comma list'],
  [{ WEBHOOK_SECRET: 'short' }, 'WEBHOOK_SECRET must be at least 32 characters'],
  [{ APP_ENV: 'staging' }, 'APP_ENV'],
  [{ APP_ENV: 'production' }, 'API_KEYS is required in production'],
  [{ TEMPORAL_ADDRESS: 'no-port' }, 'TEMPORAL_ADDRESS must be host:port'],
  [{ API_RATE_LIMIT_PER_KEY: '0' }, 'API_RATE_LIMIT_PER_KEY'],
  [{ API_RATE_LIMIT_PER_ADDRESS: 'many' }, 'API_RATE_LIMIT_PER_ADDRESS'],
])('%j is refused naming the variable', (env, message) => {
  expectConfigError(env, message);
});

test('the API rate limits are set per key and per address', () => {
  expect(loadConfig({ API_RATE_LIMIT_PER_KEY: '6000', API_RATE_LIMIT_PER_ADDRESS: '900' }).api.rateLimits).toEqual({
    perKey: 6000,
    perAddress: 900,
  });
});

test('secrets are never echoed in a config error', () => {
  try {
    loadConfig({ WEBHOOK_SECRET: 'tiny-secret-value' });
    throw new Error('should have failed');
  } catch (err) {
    expect((err as Error).message).not.toContain('tiny-secret-value');
  }
});

test('a process with a bad setting stops at start with one clear line', () => {
  const root = path.resolve(__dirname, '../..');
  const res = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', 'workers/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH, FINWAVE_BASE_URL: 'https://example.test/management' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(res.status).toBe(1);
  expect(res.stderr.trim()).toBe('Configuration error: FINWAVE_CLIENT_TOKEN is required when FINWAVE_BASE_URL is set');
});

describe('production', () => {
  const base = {
    APP_ENV: 'production',
    API_KEYS: 'backend:0123456789abcdef0123',
    WEBHOOK_SECRET: 's'.repeat(40),
    PUBLIC_BASE_URL: 'https://idv.example.com',
    PAYLOAD_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
    AUDIT_KEYS: `a1:${Buffer.alloc(32, 6).toString('base64')}`,
  };

  test('needs at least one vendor', () => {
    expectConfigError(base, "FOURTHLINE_BASE_URL (or another vendor's settings) is required in production");
  });

  test('a vendor without settings is disabled, never served by a sandbox', () => {
    const c = loadConfig({
      ...base,
      FINWAVE_BASE_URL: 'https://idgateway.finwave.com/management',
      FINWAVE_CLIENT_TOKEN: 'real-token',
    });
    expect(c.disabledProviders.sort()).toEqual(['authenteq', 'fourthline', 'id360', 'namirial']);
    expect(c.sandbox.enabled).toBe(false);
    expect(c.notes).toContain('id360: no vendor settings, disabled in production');
    expect(c.notes.join('\n')).not.toContain('sandbox');
  });

  test('development serves every unconfigured vendor from its sandbox', () => {
    const c = loadConfig({
      FINWAVE_BASE_URL: 'https://idgateway.finwave.com/management',
      FINWAVE_CLIENT_TOKEN: 'real-token',
    });
    expect(c.disabledProviders).toEqual([]);
    expect(c.sandbox.enabled).toBe(true);
  });
});
