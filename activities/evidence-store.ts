/**
 * The evidence store: where every binary artifact (evidence ZIPs, images, reports, signed PDFs) and
 * every raw vendor result lives, content-addressed by sha256. Workflows carry only the EvidenceRef.
 *
 * `FolderEvidenceStore` is the default. Another backend (an S3-compatible bucket, say) implements
 * the same three methods, keyed by the sha256 hex, and is passed to `createActivities`.
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { EvidenceRef } from '../workflows/shared';

export interface EvidenceStore {
  put(kind: string, contentType: string, bytes: Buffer): Promise<EvidenceRef>;
  /** The bytes, or null when the artifact is not (or no longer) stored. */
  get(sha256: string): Promise<Buffer | null>;
  delete(sha256: string): Promise<boolean>;
}

const HEX64 = /^[a-f0-9]{64}$/;

export class FolderEvidenceStore implements EvidenceStore {
  constructor(readonly dir: string) {}

  async put(kind: string, contentType: string, bytes: Buffer): Promise<EvidenceRef> {
    const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
    const file = this.fileFor(sha256);
    await fs.mkdir(path.dirname(file), { recursive: true });
    try {
      await fs.access(file);
    } catch {
      // Write then rename, so that a reader never sees half a file.
      const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
      await fs.writeFile(tmp, bytes, { mode: 0o600 });
      await fs.rename(tmp, file);
    }
    return { kind, ref: `sha256:${sha256}`, sha256, size: bytes.length, contentType };
  }

  async get(sha256: string): Promise<Buffer | null> {
    if (!HEX64.test(sha256)) return null;
    try {
      return await fs.readFile(this.fileFor(sha256));
    } catch {
      return null;
    }
  }

  async delete(sha256: string): Promise<boolean> {
    if (!HEX64.test(sha256)) return false;
    try {
      await fs.unlink(this.fileFor(sha256));
      return true;
    } catch {
      return false;
    }
  }

  private fileFor(sha256: string): string {
    return path.join(this.dir, 'sha256', sha256.slice(0, 2), sha256);
  }
}
