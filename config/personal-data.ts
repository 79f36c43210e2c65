/**
 * The personal-data settings (docs/personal-data.md): the payload encryption keys, the
 * codec endpoint for the Web UI, the retention of evidence per artifact kind and the audit log.
 * Declared here and spread into config/index.ts's schema, so that they are validated with the rest.
 */
import path from 'node:path';
import { z } from 'zod';

/** 32 random bytes as base64: `openssl rand -base64 32`. */
const KEY_ID = /^[A-Za-z0-9_.-]{1,32}$/;

/** `keyId:base64key,...` -> one AES-256 key per id. The ids name the key in each payload's metadata. */
const payloadKeys = z
  .string()
  .min(1)
  .transform((raw, ctx) => {
    const keys: PayloadKey[] = [];
    for (const part of raw
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)) {
      const sep = part.indexOf(':');
      const id = part.slice(0, sep);
      const key = sep > 0 ? Buffer.from(part.slice(sep + 1), 'base64') : Buffer.alloc(0);
      if (!KEY_ID.test(id) || key.length !== 32 || keys.some((k) => k.id === id)) {
        ctx.addIssue({
          code: 'custom',
          message:
            'must be a comma list of keyId:key with distinct ids and 32-byte base64 keys (openssl rand -base64 32)',
        });
        return z.NEVER;
      }
      keys.push({ id, key });
    }
    return keys;
  });

/** `kind:duration,...`; a kind may hold `*` wildcards (`*-selfie`, `<vendor>-*`, `*`). Durations: 30d, 12h, 90m, 10s. */
const retention = z.string().transform((raw, ctx) => {
  const rules: RetentionRule[] = [];
  for (const part of raw
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^([A-Za-z0-9_*.-]{1,100}):(\d{1,6})(d|h|m|s)$/.exec(part);
    const unit = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 }[m?.[3] as 'd' | 'h' | 'm' | 's'];
    if (!m || Number(m[2]) < 1) {
      ctx.addIssue({
        code: 'custom',
        message: 'must be a comma list of kind:duration, e.g. "*:1825d,*-selfie:90d" (units d, h, m, s)',
      });
      return z.NEVER;
    }
    rules.push({ pattern: m[1]!, ms: Number(m[2]) * unit });
  }
  return rules;
});

const origin = z
  .string()
  .regex(/^https?:\/\/[^/\s]+$/, 'must be an origin such as http://localhost:8233 (scheme, host and port, no path)');

export const PERSONAL_DATA_ENV = {
  /** AES-256-GCM keys for workflow payloads; the current one encrypts, all of them decrypt (rotation). */
  PAYLOAD_KEYS: payloadKeys.optional(),
  PAYLOAD_CURRENT_KEY: z.string().regex(KEY_ID, 'must be a key id from PAYLOAD_KEYS').optional(),
  /** The origin of the Temporal Web UI, the only one allowed to call the codec endpoint from a browser. */
  CODEC_UI_ORIGIN: origin.default('http://localhost:8233'),
  /** API key ids (from API_KEYS) allowed to decode payloads; default: every key. */
  CODEC_KEY_IDS: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}(,[A-Za-z0-9_.-]{1,64})*$/, 'must be a comma list of API key ids')
    .transform((s) => s.split(','))
    .optional(),
  /** The codec over HTTPS too (the Web UI passes a token only to an https:// endpoint). PEM files. */
  CODEC_TLS_CERT: z.string().min(1).optional(),
  CODEC_TLS_KEY: z.string().min(1).optional(),
  CODEC_TLS_PORT: z.coerce.number().int().min(1).max(65535).default(8443),
  /**
   * Development only, API on loopback only: the codec decodes for browser requests from CODEC_UI_ORIGIN
   * without a token (the dev server's Web UI sends none to an http:// endpoint). Default: on exactly then.
   */
  CODEC_UI_WITHOUT_TOKEN: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
  /** How long each kind of evidence is kept; `*` is the fallback (default 5 years). */
  EVIDENCE_RETENTION: retention.default([]),
  /** The append-only audit log of erasures (it outlives the workflows' histories). */
  AUDIT_DIR: z.string().min(1).default('data/audit'),
  /**
   * The audit log's own AES-256 keys (same format as PAYLOAD_KEYS), apart from the payload keys so that
   * rotating those out never makes the audit log unreadable. Keys are only ever added here, never removed.
   */
  AUDIT_KEYS: payloadKeys.optional(),
  AUDIT_CURRENT_KEY: z.string().regex(KEY_ID, 'must be a key id from AUDIT_KEYS').optional(),
  /** A PostgreSQL URL: the audit log in one hash-chained table shared by every API replica (default: AUDIT_DIR). */
  AUDIT_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
};

export interface PayloadKey {
  id: string;
  key: Buffer;
}

export interface RetentionRule {
  /** An artifact kind, or a pattern with `*` wildcards. */
  pattern: string;
  ms: number;
}

export interface PersonalDataConfig {
  /** Null in development without PAYLOAD_KEYS: a generated local key is used (codec/keys.ts). */
  payloadKeys: { keys: PayloadKey[]; current: string } | null;
  codec: {
    uiOrigin: string;
    keyIds: string[] | null;
    tls: { certFile: string; keyFile: string; port: number } | null;
    /** Decode for requests from `uiOrigin` without a token (development, API on loopback only). */
    uiWithoutToken: boolean;
  };
  retention: RetentionRule[];
  auditDir: string;
  /** Null in development without AUDIT_KEYS: a generated local key is used (codec/keys.ts). */
  auditKeys: { keys: PayloadKey[]; current: string } | null;
  /** Set: the PostgreSQL audit log (client/pg-audit-log.ts) instead of the folder. */
  auditDatabaseUrl: string | null;
}

/** Kept 5 years unless EVIDENCE_RETENTION says otherwise (the usual AML record-keeping period). */
export const DEFAULT_RETENTION_MS = 1825 * 86_400_000;

type Env = z.infer<z.ZodObject<typeof PERSONAL_DATA_ENV>>;

/** `configError` is config/index.ts's ConfigError (passed in: this module is imported by it). */
export function personalDataConfig(
  e: Env,
  prod: boolean,
  apiKeyIds: string[],
  configError: (variable: string, problem: string) => Error,
  apiHost = '127.0.0.1',
): PersonalDataConfig {
  let payloadKeys: PersonalDataConfig['payloadKeys'] = null;
  if (e.PAYLOAD_KEYS) {
    const current = e.PAYLOAD_CURRENT_KEY ?? (e.PAYLOAD_KEYS.length === 1 ? e.PAYLOAD_KEYS[0]!.id : undefined);
    if (!current) throw configError('PAYLOAD_CURRENT_KEY', 'is required when PAYLOAD_KEYS holds several keys');
    if (!e.PAYLOAD_KEYS.some((k) => k.id === current))
      throw configError('PAYLOAD_CURRENT_KEY', 'must be a key id from PAYLOAD_KEYS');
    payloadKeys = { keys: e.PAYLOAD_KEYS, current };
  } else if (e.PAYLOAD_CURRENT_KEY) {
    throw configError('PAYLOAD_KEYS', 'is required when PAYLOAD_CURRENT_KEY is set');
  } else if (prod) {
    throw configError('PAYLOAD_KEYS', 'is required in production (workflow payloads hold personal data)');
  }
  let auditKeys: PersonalDataConfig['auditKeys'] = null;
  if (e.AUDIT_KEYS) {
    const current = e.AUDIT_CURRENT_KEY ?? (e.AUDIT_KEYS.length === 1 ? e.AUDIT_KEYS[0]!.id : undefined);
    if (!current) throw configError('AUDIT_CURRENT_KEY', 'is required when AUDIT_KEYS holds several keys');
    if (!e.AUDIT_KEYS.some((k) => k.id === current))
      throw configError('AUDIT_CURRENT_KEY', 'must be a key id from AUDIT_KEYS');
    auditKeys = { keys: e.AUDIT_KEYS, current };
  } else if (e.AUDIT_CURRENT_KEY) {
    throw configError('AUDIT_KEYS', 'is required when AUDIT_CURRENT_KEY is set');
  } else if (prod) {
    throw configError(
      'AUDIT_KEYS',
      'is required in production (the audit log names end users; its key never rotates out with PAYLOAD_KEYS)',
    );
  }
  if (Boolean(e.CODEC_TLS_CERT) !== Boolean(e.CODEC_TLS_KEY)) {
    throw configError(
      e.CODEC_TLS_CERT ? 'CODEC_TLS_KEY' : 'CODEC_TLS_CERT',
      `is required when ${e.CODEC_TLS_CERT ? 'CODEC_TLS_CERT' : 'CODEC_TLS_KEY'} is set`,
    );
  }
  const unknownKey = e.CODEC_KEY_IDS?.find((id) => !apiKeyIds.includes(id));
  if (unknownKey !== undefined) throw configError('CODEC_KEY_IDS', 'must name key ids from API_KEYS');
  const loopback = ['127.0.0.1', 'localhost', '::1'].includes(apiHost);
  if (e.CODEC_UI_WITHOUT_TOKEN && (prod || !loopback)) {
    throw configError(
      'CODEC_UI_WITHOUT_TOKEN',
      'is allowed only in development with the API on loopback (API_HOST=127.0.0.1)',
    );
  }
  return {
    payloadKeys,
    codec: {
      uiOrigin: e.CODEC_UI_ORIGIN,
      keyIds: e.CODEC_KEY_IDS ?? null,
      tls: e.CODEC_TLS_CERT
        ? { certFile: path.resolve(e.CODEC_TLS_CERT), keyFile: path.resolve(e.CODEC_TLS_KEY!), port: e.CODEC_TLS_PORT }
        : null,
      uiWithoutToken: e.CODEC_UI_WITHOUT_TOKEN ?? (!prod && loopback),
    },
    retention: e.EVIDENCE_RETENTION.some((r) => r.pattern === '*')
      ? e.EVIDENCE_RETENTION
      : [...e.EVIDENCE_RETENTION, { pattern: '*', ms: DEFAULT_RETENTION_MS }],
    auditDir: path.resolve(e.AUDIT_DIR),
    auditKeys,
    auditDatabaseUrl: e.AUDIT_DATABASE_URL ?? null,
  };
}

/** How long an artifact of `kind` is kept: an exact rule, else the matching pattern with the most literal characters. */
export function retentionFor(rules: RetentionRule[], kind: string): number {
  const exact = rules.find((r) => r.pattern === kind);
  if (exact) return exact.ms;
  let best: RetentionRule | undefined;
  for (const r of rules) {
    if (!globMatch(r.pattern, kind)) continue;
    if (!best || literal(r.pattern) > literal(best.pattern)) best = r;
  }
  return best?.ms ?? DEFAULT_RETENTION_MS;
}

const literal = (pattern: string) => pattern.replace(/\*/g, '').length;

function globMatch(pattern: string, s: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\-]/g, '\\$&'))
      .join('.*')}$`,
  );
  return re.test(s);
}

/** The task queue of the housekeeping worker (evidence retention), beside the vendors' `<prefix>-<provider>`. */
export function housekeepingTaskQueue(config: { taskQueuePrefix: string }): string {
  return `${config.taskQueuePrefix}-housekeeping`;
}
