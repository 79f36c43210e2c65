/**
 * The API's append-only audit log: what must outlive a workflow's history (erasures of personal data)
 * and what reached a verification after its workflow had closed. One line per entry, each encrypted
 * (it names the end user's IP and user agent) with the **audit keys** (AUDIT_KEYS), not the payload
 * keys: payload keys rotate out, the audit log must stay readable for as long as it is kept. Lines
 * written before the audit keys existed were encrypted with a payload key; they are read with the
 * payload keys while those are configured, and shown as an "unreadable audit entry" (never a 500) once
 * their key is gone.
 *
 * Two backends behind `AuditLog`:
 * - `FolderAuditLog` (the embedded default): <AUDIT_DIR>/<sha256 of the verification id>.jsonl
 * - `PostgresAuditLog` (client/pg-audit-log.ts, AUDIT_DATABASE_URL): one hash-chained table shared by
 *   every API replica.
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { AesGcmPayloadCodec, KEY_ID_METADATA, type PayloadKeyring } from '../codec';
import type { AuditEntry } from '../workflows/shared';

export interface AuditLog {
  append(verificationId: string, entry: AuditEntry): Promise<void>;
  read(verificationId: string): Promise<AuditEntry[]>;
}

export const UNREADABLE_AUDIT_EVENT = 'unreadable audit entry';

/** Encrypts entries with the current audit key; decrypts with the audit keys, then (older lines) the payload keys. */
export class AuditCipher {
  private readonly writer: AesGcmPayloadCodec;
  private readonly readers: AesGcmPayloadCodec[];

  constructor(auditKeyring: PayloadKeyring, legacyPayloadKeyring?: PayloadKeyring) {
    this.writer = new AesGcmPayloadCodec(auditKeyring);
    this.readers = [this.writer, ...(legacyPayloadKeyring ? [new AesGcmPayloadCodec(legacyPayloadKeyring)] : [])];
  }

  seal(entry: AuditEntry): Payload {
    return this.writer.encrypt(defaultPayloadConverter.toPayload(entry));
  }

  /** Never throws: an entry no configured key opens comes back as an `unreadable audit entry` with its key id. */
  open(payload: Payload, at?: string | null): AuditEntry {
    for (const reader of this.readers) {
      try {
        return defaultPayloadConverter.fromPayload<AuditEntry>(reader.decrypt(payload));
      } catch {
        // not this keyring (unknown key id, or a key id of the same name holding another key)
      }
    }
    const rawId = payload.metadata?.[KEY_ID_METADATA];
    return {
      at: at ?? new Date(0).toISOString(),
      event: UNREADABLE_AUDIT_EVENT,
      actor: null,
      detail: {
        keyId: rawId ? Buffer.from(rawId).toString('utf8') : null,
        reason:
          'encrypted with a key that is not configured (AUDIT_KEYS, or a payload key for entries written before AUDIT_KEYS)',
      },
    };
  }
}

export class FolderAuditLog implements AuditLog {
  private readonly cipher: AuditCipher;

  /** `legacyPayloadKeyring`: the payload keys, to read lines written before the audit keys existed. */
  constructor(
    readonly dir: string,
    auditKeyring: PayloadKeyring,
    legacyPayloadKeyring?: PayloadKeyring,
  ) {
    this.cipher = new AuditCipher(auditKeyring, legacyPayloadKeyring);
  }

  async append(verificationId: string, entry: AuditEntry): Promise<void> {
    const p = this.cipher.seal(entry);
    // `at` in clear (a time, no personal data): an entry whose key is gone still sorts in its place.
    const line = {
      at: entry.at,
      metadata: Object.fromEntries(
        Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
      ),
      data: Buffer.from(p.data!).toString('base64'),
    };
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    // One write per line with O_APPEND: lines from concurrent API processes on one host never interleave.
    await fs.appendFile(this.fileFor(verificationId), `${JSON.stringify(line)}\n`, { mode: 0o600 });
  }

  async read(verificationId: string): Promise<AuditEntry[]> {
    let text: string;
    try {
      text = await fs.readFile(this.fileFor(verificationId), 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        let line: { at?: string; metadata: Record<string, string>; data: string };
        try {
          line = JSON.parse(l) as typeof line;
        } catch {
          line = { metadata: {}, data: '' }; // a torn line (a crash mid-write): unreadable, not a 500
        }
        return this.cipher.open(
          {
            metadata: Object.fromEntries(
              Object.entries(line.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
            ),
            data: Buffer.from(line.data ?? '', 'base64'),
          },
          line.at,
        );
      });
  }

  private fileFor(verificationId: string): string {
    return path.join(this.dir, `${crypto.createHash('sha256').update(verificationId).digest('hex')}.jsonl`);
  }
}
