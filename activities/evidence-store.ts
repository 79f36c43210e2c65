/**
 * The evidence store: where every binary artifact (evidence ZIPs, images, reports, signed PDFs) and
 * every raw vendor result lives, content-addressed by sha256. Workflows carry only the EvidenceRef.
 *
 * Besides the bytes, the store keeps one **claim** per (artifact, owner, kind): which verification
 * (the owner: a workflow id) stored it, as what kind, and when. Claims are what retention and erasure
 * act on: retention releases the claims older than their kind's retention, erasure releases every
 * claim of one verification, and the bytes go when the last claim on them is released. Identical
 * bytes stored by two verifications (the same contract PDF, say) are kept once and survive the
 * erasure of either one; they go with the last claim.
 *
 * `FolderEvidenceStore` is the default (one folder, shared by the API and the worker):
 *   <dir>/sha256/<aa>/<sha256>                    the bytes (0600, written then renamed)
 *   <dir>/claims/<aa>/<sha256>/<claim key>.json   one small JSON file per claim, written once
 *
 * Another backend implements the same interface; for an S3-compatible bucket (README "Personal data
 * and evidence"): `put` = PutObject `sha256/<hex>` (with If-None-Match: *) plus PutObject
 * `claims/<hex>/<claim key>.json`; `get` = GetObject; `has` = HeadObject; `claims` = ListObjectsV2 on `claims/` (or on
 * `claims/<hex>/`); `release` = DeleteObject of the claim, then of the bytes when the claim prefix
 * is empty; `delete` = both prefixes. Server-side encryption (SSE-KMS) and a bucket lifecycle rule
 * as a backstop to retention are the bucket's settings. It is passed to `createActivities` and
 * `buildApi` in place of the folder store.
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import type { EvidenceRef } from '../workflows/shared';

/** Who stored an artifact, as what, and when. */
export interface EvidenceClaim {
  sha256: string;
  kind: string;
  /** The workflow id of the verification (or signature attempt) that stored it; null if unknown. */
  owner: string | null;
  /** ISO time of the first storage under this owner and kind. */
  storedAt: string;
  size: number;
  contentType: string;
}

export interface EvidenceStore {
  /** Stores the bytes (once per content) and a claim for `owner` + `kind` (once; a repeat keeps the first time). */
  put(kind: string, contentType: string, bytes: Buffer, owner?: string | null): Promise<EvidenceRef>;
  /** The bytes, or null when the artifact is not (or no longer) stored. */
  get(sha256: string): Promise<Buffer | null>;
  /** Whether the bytes are stored. */
  has(sha256: string): Promise<boolean>;
  /** The claims, all of them or those of one owner or one artifact. */
  claims(filter?: { owner?: string; sha256?: string }): Promise<EvidenceClaim[]>;
  /** Drops one claim; deletes the bytes when no claim is left. */
  release(claim: Pick<EvidenceClaim, 'sha256' | 'kind' | 'owner'>): Promise<{ bytesDeleted: boolean }>;
  /** Deletes the bytes and every claim on them. */
  delete(sha256: string): Promise<boolean>;
}

const HEX64 = /^[a-f0-9]{64}$/;

export class FolderEvidenceStore implements EvidenceStore {
  constructor(readonly dir: string) {}

  async put(kind: string, contentType: string, bytes: Buffer, owner: string | null = null): Promise<EvidenceRef> {
    const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
    // The claim first, then the bytes: retention never sees bytes without the claim being written.
    const claim: EvidenceClaim = { sha256, kind, owner, storedAt: new Date().toISOString(), size: bytes.length, contentType };
    const claimFile = this.claimFile(sha256, kind, owner);
    await fs.mkdir(path.dirname(claimFile), { recursive: true });
    try {
      await fs.writeFile(claimFile, JSON.stringify(claim), { flag: 'wx', mode: 0o600 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
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

  async has(sha256: string): Promise<boolean> {
    if (!HEX64.test(sha256)) return false;
    try {
      await fs.access(this.fileFor(sha256));
      return true;
    } catch {
      return false;
    }
  }

  async claims(filter: { owner?: string; sha256?: string } = {}): Promise<EvidenceClaim[]> {
    if (filter.sha256 !== undefined && !HEX64.test(filter.sha256)) return [];
    const dirs = filter.sha256 ? [this.claimDir(filter.sha256)] : await this.allClaimDirs();
    const out: EvidenceClaim[] = [];
    for (const dir of dirs) {
      for (const name of await readdir(dir)) {
        if (!name.endsWith('.json')) continue;
        try {
          const claim = JSON.parse(await fs.readFile(path.join(dir, name), 'utf8')) as EvidenceClaim;
          if (filter.owner === undefined || claim.owner === filter.owner) out.push(claim);
        } catch {
          // Released by another process between the listing and the read.
        }
      }
    }
    return out;
  }

  async release(claim: Pick<EvidenceClaim, 'sha256' | 'kind' | 'owner'>): Promise<{ bytesDeleted: boolean }> {
    if (!HEX64.test(claim.sha256)) return { bytesDeleted: false };
    await fs.rm(this.claimFile(claim.sha256, claim.kind, claim.owner), { force: true });
    const dir = this.claimDir(claim.sha256);
    if ((await readdir(dir)).some((n) => n.endsWith('.json'))) return { bytesDeleted: false };
    try {
      await fs.rmdir(dir); // not recursive: fails if another process has just added a claim
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return { bytesDeleted: false };
    }
    return { bytesDeleted: await unlink(this.fileFor(claim.sha256)) };
  }

  async delete(sha256: string): Promise<boolean> {
    if (!HEX64.test(sha256)) return false;
    await fs.rm(this.claimDir(sha256), { recursive: true, force: true });
    return unlink(this.fileFor(sha256));
  }

  private fileFor(sha256: string): string {
    return path.join(this.dir, 'sha256', sha256.slice(0, 2), sha256);
  }

  private claimDir(sha256: string): string {
    return path.join(this.dir, 'claims', sha256.slice(0, 2), sha256);
  }

  /** One file per (owner, kind): a hash, so that neither appears in a file name. */
  private claimFile(sha256: string, kind: string, owner: string | null): string {
    const key = crypto.createHash('sha256').update(`${owner ?? ''}\0${kind}`).digest('hex').slice(0, 32);
    return path.join(this.claimDir(sha256), `${key}.json`);
  }

  private async allClaimDirs(): Promise<string[]> {
    const root = path.join(this.dir, 'claims');
    const out: string[] = [];
    for (const prefix of await readdir(root)) {
      for (const sha of await readdir(path.join(root, prefix))) if (HEX64.test(sha)) out.push(path.join(root, prefix, sha));
    }
    return out;
  }
}

/**
 * The store as activities see it: every `put` is claimed by the workflow that runs the activity
 * (the verification, or a Fourthline signature attempt), unless the caller names an owner.
 */
export function ownedByCallingWorkflow(store: EvidenceStore): EvidenceStore {
  return {
    put: (kind, contentType, bytes, owner) => store.put(kind, contentType, bytes, owner ?? callingWorkflowId()),
    get: (sha256) => store.get(sha256),
    has: (sha256) => store.has(sha256),
    claims: (filter) => store.claims(filter),
    release: (claim) => store.release(claim),
    delete: (sha256) => store.delete(sha256),
  };
}

function callingWorkflowId(): string | null {
  try {
    return Context.current().info.workflowExecution?.workflowId ?? null;
  } catch {
    return null; // not inside an activity
  }
}

async function readdir(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch {
    return [];
  }
}

async function unlink(file: string): Promise<boolean> {
  try {
    await fs.unlink(file);
    return true;
  } catch {
    return false;
  }
}
