/**
 * The keys that encrypt workflow payloads. Configured keys come from PAYLOAD_KEYS (never from code);
 * without them, in development only, a local key is generated once into the git-ignored `data/`
 * folder and reused by every process started from this checkout (`npm start`, the worker, the API,
 * the tests), so that they all read each other's payloads.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { AppConfig } from '../config/app-config';

export interface PayloadKeyring {
  /** The key id new payloads are encrypted with. */
  current: string;
  /** Every key that may decrypt: the current one and the ones rotated out. */
  keys: Map<string, Buffer>;
}

export interface ResolvedKeyring {
  keyring: PayloadKeyring;
  /** Where the keys came from, for the launchers to say so (never the key itself). */
  source: 'configured' | 'development key file';
  /** Set when this call created the development key file. */
  generated?: string;
}

/** The development key, relative to the working directory (the project root for npm scripts). */
export const DEV_KEY_FILE = path.join('data', 'dev-payload-key.json');

export function keyringOf(keys: { id: string; key: Buffer }[], current: string): PayloadKeyring {
  if (!keys.some((k) => k.id === current)) throw new Error(`the current payload key ${current} is not among the keys`);
  return { current, keys: new Map(keys.map((k) => [k.id, k.key])) };
}

export function resolvePayloadKeyring(
  config: Pick<AppConfig, 'env' | 'personalData'>,
  devKeyFile = path.resolve(DEV_KEY_FILE),
): ResolvedKeyring {
  const configured = config.personalData.payloadKeys;
  if (configured) return { keyring: keyringOf(configured.keys, configured.current), source: 'configured' };
  if (config.env === 'production') throw new Error('PAYLOAD_KEYS is required in production');
  const { key, generated } = devKey(devKeyFile);
  return {
    keyring: keyringOf([key], key.id),
    source: 'development key file',
    ...(generated ? { generated: devKeyFile } : {}),
  };
}

/** Reads the development key, creating it first if missing (exclusive create: concurrent processes agree on one). */
function devKey(file: string): { key: { id: string; key: Buffer }; generated: boolean } {
  let generated = false;
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const fresh = {
      id: `dev-${crypto.randomBytes(4).toString('hex')}`,
      key: crypto.randomBytes(32).toString('base64'),
    };
    try {
      fs.writeFileSync(file, `${JSON.stringify(fresh)}\n`, { flag: 'wx', mode: 0o600 });
      generated = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  // Another process may have created it a moment ago and still be writing: retry briefly.
  for (let attempt = 0; ; attempt++) {
    try {
      const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as { id: string; key: string };
      const key = Buffer.from(raw.key, 'base64');
      if (!/^[A-Za-z0-9_.-]{1,32}$/.test(raw.id) || key.length !== 32)
        throw new Error(`${file} does not hold a 32-byte key`);
      return { key: { id: raw.id, key }, generated };
    } catch (err) {
      if (attempt >= 20 || !(err instanceof SyntaxError)) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 25);
    }
  }
}

/** The development audit key, apart from the payload key (data/dev-audit-key.json). */
export const DEV_AUDIT_KEY_FILE = path.join('data', 'dev-audit-key.json');

/**
 * The audit log's keyring: AUDIT_KEYS, or in development a local key file. Never the payload keys: those
 * rotate out, the audit log must stay readable for years.
 */
export function resolveAuditKeyring(
  config: Pick<AppConfig, 'env' | 'personalData'>,
  devKeyFile = path.resolve(DEV_AUDIT_KEY_FILE),
): PayloadKeyring {
  const configured = config.personalData.auditKeys;
  if (configured) return keyringOf(configured.keys, configured.current);
  if (config.env === 'production') throw new Error('AUDIT_KEYS is required in production');
  const { key } = devKey(devKeyFile);
  return keyringOf([key], key.id);
}

/** The development key (created on first use): what every process of this checkout uses without PAYLOAD_KEYS. */
export function developmentKeyring(devKeyFile = path.resolve(DEV_KEY_FILE)): ResolvedKeyring {
  return resolvePayloadKeyring(
    { env: 'development', personalData: { payloadKeys: null } as AppConfig['personalData'] },
    devKeyFile,
  );
}

/** One line for the launchers: where the keys came from (never a key). */
export function describeKeyring(r: ResolvedKeyring): string {
  if (r.source === 'configured')
    return `Payloads: encrypted (AES-256-GCM) with key ${r.keyring.current} of PAYLOAD_KEYS (${r.keyring.keys.size} key(s) decrypt)`;
  const where = path.relative(process.cwd(), r.generated ?? path.resolve(DEV_KEY_FILE)) || DEV_KEY_FILE;
  return r.generated
    ? `Payloads: encrypted with a development key generated now in ${where} (git-ignored; set PAYLOAD_KEYS in production)`
    : `Payloads: encrypted with the development key in ${where} (set PAYLOAD_KEYS in production)`;
}
