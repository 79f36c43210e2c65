/**
 * The API's append-only audit log: what must outlive a workflow's history (erasures of personal data)
 * and what reached a verification after its workflow had closed. One file per verification, one line
 * per entry, each line encrypted with the payload keys (it names the end user's IP and user agent),
 * so the log rotates keys with everything else. Lines are only ever appended.
 *
 *   <AUDIT_DIR>/<sha256 of the verification id>.jsonl
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { AesGcmPayloadCodec, type PayloadKeyring } from '../codec';
import type { AuditEntry } from '../workflows/shared';

export interface AuditLog {
  append(verificationId: string, entry: AuditEntry): Promise<void>;
  read(verificationId: string): Promise<AuditEntry[]>;
}

export class FolderAuditLog implements AuditLog {
  private readonly codec: AesGcmPayloadCodec;

  constructor(
    readonly dir: string,
    keyring: PayloadKeyring,
  ) {
    this.codec = new AesGcmPayloadCodec(keyring);
  }

  async append(verificationId: string, entry: AuditEntry): Promise<void> {
    const p = this.codec.encrypt(defaultPayloadConverter.toPayload(entry));
    const line = { metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])), data: Buffer.from(p.data!).toString('base64') };
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    // One write per line with O_APPEND: lines from concurrent API replicas never interleave.
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
        const line = JSON.parse(l) as { metadata: Record<string, string>; data: string };
        const payload = this.codec.decrypt({
          metadata: Object.fromEntries(Object.entries(line.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
          data: Buffer.from(line.data, 'base64'),
        });
        return defaultPayloadConverter.fromPayload<AuditEntry>(payload);
      });
  }

  private fileFor(verificationId: string): string {
    return path.join(this.dir, `${crypto.createHash('sha256').update(verificationId).digest('hex')}.jsonl`);
  }
}
