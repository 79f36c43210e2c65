/**
 * The audit log in PostgreSQL (AUDIT_DATABASE_URL): one append-only table shared by every API replica.
 *
 *   audit_log(seq, verification, at, key_id, payload, prev_hash, hash)
 *
 * - `verification` is the sha256 of the verification id (the id names a vendor reference); `payload` is the
 *   entry encrypted with the audit keys (AUDIT_KEYS), like the folder log's lines.
 * - Each row is chained to the one before: hash = sha256(prev_hash, seq, verification, at, key_id, payload).
 *   Appends take a transaction-scoped advisory lock, so that replicas append one at a time and the chain
 *   has no fork. `verify()` walks the chain: an edited, inserted or removed row breaks it.
 * - A trigger refuses UPDATE, DELETE and TRUNCATE; the chain is what catches someone who disables it.
 *   (Dropping the newest rows is only caught against a head hash kept elsewhere: `verify()` returns it.)
 */
import crypto from 'node:crypto';
import { Pool, type PoolConfig } from 'pg';
import type { PayloadKeyring } from '../codec';
import { KEY_ID_METADATA } from '../codec';
import type { AuditEntry } from '../workflows/shared';
import { AuditCipher, type AuditLog } from './audit-log';

/** Any constant: the advisory lock that serialises appends (and migrations) across replicas. */
const APPEND_LOCK = 0x417564; // "Aud"
const GENESIS: Buffer = Buffer.alloc(32);

const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_log (
  seq          BIGSERIAL PRIMARY KEY,
  verification TEXT   NOT NULL,
  at           TEXT   NOT NULL,
  key_id       TEXT   NOT NULL,
  payload      BYTEA  NOT NULL,
  prev_hash    BYTEA  NOT NULL,
  hash         BYTEA  NOT NULL UNIQUE
);
CREATE INDEX IF NOT EXISTS audit_log_by_verification ON audit_log (verification, seq);
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only';
END $$;
DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log;
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
`;

interface Row {
  seq: string;
  verification: string;
  at: string;
  key_id: string;
  payload: Buffer;
  prev_hash: Buffer;
  hash: Buffer;
}

export interface ChainVerification {
  ok: boolean;
  rows: number;
  /** The first row whose hash or link does not match (null when ok). */
  firstBadSeq: string | null;
  /** The newest row's hash: keep it elsewhere to also detect removal of the newest rows. */
  head: string | null;
}

export function rowHash(
  prev: Buffer,
  seq: string,
  verification: string,
  at: string,
  keyId: string,
  payload: Buffer,
): Buffer {
  const h = crypto.createHash('sha256').update(prev);
  for (const field of [seq, verification, at, keyId]) h.update(`${Buffer.byteLength(field)}:${field}`);
  return h.update(payload).digest();
}

export class PostgresAuditLog implements AuditLog {
  readonly pool: Pool;
  private readonly cipher: AuditCipher;
  private migrated?: Promise<void>;

  constructor(connection: string | PoolConfig, auditKeyring: PayloadKeyring, legacyPayloadKeyring?: PayloadKeyring) {
    this.pool = new Pool(typeof connection === 'string' ? { connectionString: connection, max: 5 } : connection);
    // An idle client's error (the server restarting) must not crash the API: the next query reconnects.
    this.pool.on('error', () => undefined);
    this.cipher = new AuditCipher(auditKeyring, legacyPayloadKeyring);
  }

  /** Creates the table, index and triggers if missing (idempotent; serialised across replicas). */
  migrate(): Promise<void> {
    this.migrated ??= this.inTransaction(async (q) => {
      await q('SELECT pg_advisory_xact_lock($1)', [APPEND_LOCK]);
      await q(SCHEMA);
    }).catch((err) => {
      this.migrated = undefined;
      throw err;
    });
    return this.migrated;
  }

  async append(verificationId: string, entry: AuditEntry): Promise<void> {
    await this.migrate();
    const sealed = this.cipher.seal(entry);
    const keyId = Buffer.from(sealed.metadata![KEY_ID_METADATA]!).toString('utf8');
    const payload = Buffer.from(
      JSON.stringify({
        metadata: Object.fromEntries(
          Object.entries(sealed.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
        ),
        data: Buffer.from(sealed.data!).toString('base64'),
      }),
    );
    const verification = verificationKey(verificationId);
    await this.inTransaction(async (q) => {
      await q('SELECT pg_advisory_xact_lock($1)', [APPEND_LOCK]);
      const last = await q<{ hash: Buffer }>('SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1');
      const prev = last.rows[0]?.hash ?? GENESIS;
      const seq = (await q<{ seq: string }>(`SELECT nextval(pg_get_serial_sequence('audit_log', 'seq')) AS seq`))
        .rows[0]!.seq;
      const hash = rowHash(prev, seq, verification, entry.at, keyId, payload);
      await q(
        'INSERT INTO audit_log (seq, verification, at, key_id, payload, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7)',
        [seq, verification, entry.at, keyId, payload, prev, hash],
      );
    });
  }

  async read(verificationId: string): Promise<AuditEntry[]> {
    await this.migrate();
    const { rows } = await this.pool.query<Row>(
      'SELECT at, payload FROM audit_log WHERE verification = $1 ORDER BY seq',
      [verificationKey(verificationId)],
    );
    return rows.map((r) => {
      let line: { metadata: Record<string, string>; data: string };
      try {
        line = JSON.parse(r.payload.toString('utf8')) as typeof line;
      } catch {
        line = { metadata: {}, data: '' };
      }
      return this.cipher.open(
        {
          metadata: Object.fromEntries(
            Object.entries(line.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
          ),
          data: Buffer.from(line.data ?? '', 'base64'),
        },
        r.at,
      );
    });
  }

  /** Walks the whole chain in order (in pages: memory stays flat however long the log is). */
  async verify(): Promise<ChainVerification> {
    await this.migrate();
    let prev: Buffer = GENESIS;
    let rows = 0;
    let after = '0';
    for (;;) {
      const page = await this.pool.query<Row>('SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 1000', [
        after,
      ]);
      for (const r of page.rows) {
        const expected = rowHash(prev, r.seq, r.verification, r.at, r.key_id, r.payload);
        if (!r.prev_hash.equals(prev) || !r.hash.equals(expected))
          return { ok: false, rows, firstBadSeq: r.seq, head: null };
        prev = r.hash;
        rows++;
        after = r.seq;
      }
      if (page.rows.length < 1000) break;
    }
    return { ok: true, rows, firstBadSeq: null, head: rows ? prev.toString('hex') : null };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async inTransaction<T>(
    fn: (q: <R extends object = object>(sql: string, params?: unknown[]) => Promise<{ rows: R[] }>) => Promise<T>,
  ): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(<R extends object>(sql: string, params?: unknown[]) => client.query<R>(sql, params));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
}

function verificationKey(verificationId: string): string {
  return crypto.createHash('sha256').update(verificationId).digest('hex');
}

/** The audit log the configuration asks for: PostgreSQL when AUDIT_DATABASE_URL is set, else null (the folder). */
export function postgresAuditLogFor(
  url: string | null,
  auditKeyring: PayloadKeyring,
  legacyPayloadKeyring?: PayloadKeyring,
): PostgresAuditLog | null {
  return url ? new PostgresAuditLog(url, auditKeyring, legacyPayloadKeyring) : null;
}
