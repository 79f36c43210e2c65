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
 * Claims are indexed by owner: listing, downloading and erasing one verification's evidence reads
 * only that verification's claims, never the whole store (which grows with years of retention).
 * Only `claims()` without a filter (the retention sweep) walks every claim.
 *
 * `FolderEvidenceStore` is the default (one folder, shared by the API and the worker):
 *   <dir>/sha256/<aa>/<sha256>                               the bytes (0600, written then renamed)
 *   <dir>/claims/<aa>/<sha256>/<claim key>.json              one small JSON file per claim, written once
 *   <dir>/owners/<sha256 of owner>/<sha256>.<claim key>.json the same claim, indexed by owner
 *   <dir>/owners/.complete                                   marks the owner index as built (a folder
 *                                                            written before the index existed is indexed
 *                                                            once, on first use)
 *
 * `S3EvidenceStore` (activities/s3-evidence-store.ts) is the same layout in an S3-compatible bucket.
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import type { EvidenceRef } from './evidence-types';

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
    const claim: EvidenceClaim = {
      sha256,
      kind,
      owner,
      storedAt: new Date().toISOString(),
      size: bytes.length,
      contentType,
    };
    await this.ensureIndexed();
    const claimFile = this.claimFile(sha256, kind, owner);
    await fs.mkdir(path.dirname(claimFile), { recursive: true });
    try {
      await fs.writeFile(claimFile, JSON.stringify(claim), { flag: 'wx', mode: 0o600 });
      await this.writeIndexEntry(claim);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // A repeat: the index entry may be missing if the first put died between the two writes.
      const first = await readClaim(claimFile);
      if (first) await this.writeIndexEntry(first);
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
    if (filter.owner !== undefined && filter.sha256 === undefined) {
      // The owner index: only this owner's claims are read.
      await this.ensureIndexed();
      const dir = this.ownerDir(filter.owner);
      const out: EvidenceClaim[] = [];
      for (const name of await readdir(dir)) {
        if (!name.endsWith('.json')) continue;
        const claim = await readClaim(path.join(dir, name));
        if (claim && claim.owner === filter.owner) out.push(claim);
      }
      return out;
    }
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
    await this.ensureIndexed();
    await fs.rm(this.claimFile(claim.sha256, claim.kind, claim.owner), { force: true });
    if (claim.owner !== null) await fs.rm(this.indexFile(claim.sha256, claim.kind, claim.owner), { force: true });
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
    await this.ensureIndexed();
    for (const claim of await this.claims({ sha256 })) {
      if (claim.owner !== null) await fs.rm(this.indexFile(sha256, claim.kind, claim.owner), { force: true });
    }
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
    return path.join(this.claimDir(sha256), `${claimKey(kind, owner)}.json`);
  }

  /** The owner's folder in the index: a hash of the owner (a workflow id may carry a vendor reference). */
  private ownerDir(owner: string): string {
    return path.join(this.dir, 'owners', ownerKey(owner));
  }

  private indexFile(sha256: string, kind: string, owner: string): string {
    return path.join(this.ownerDir(owner), `${sha256}.${claimKey(kind, owner)}.json`);
  }

  private async writeIndexEntry(claim: EvidenceClaim): Promise<void> {
    if (claim.owner === null) return; // only claims with an owner are looked up by owner
    const file = this.indexFile(claim.sha256, claim.kind, claim.owner);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, JSON.stringify(claim), { mode: 0o600 });
  }

  private indexed?: Promise<void>;

  /** Builds the owner index once for a folder written before it existed (on a new folder: an empty walk). */
  private ensureIndexed(): Promise<void> {
    this.indexed ??= (async () => {
      const marker = path.join(this.dir, 'owners', '.complete');
      try {
        await fs.access(marker);
        return;
      } catch {
        // not built yet
      }
      for (const dir of await this.allClaimDirs()) {
        for (const name of await readdir(dir)) {
          const claim = name.endsWith('.json') ? await readClaim(path.join(dir, name)) : null;
          if (claim) await this.writeIndexEntry(claim);
        }
      }
      await fs.mkdir(path.dirname(marker), { recursive: true });
      await fs.writeFile(marker, '');
    })().catch((err) => {
      this.indexed = undefined;
      throw err;
    });
    return this.indexed;
  }

  private async allClaimDirs(): Promise<string[]> {
    const root = path.join(this.dir, 'claims');
    const out: string[] = [];
    for (const prefix of await readdir(root)) {
      for (const sha of await readdir(path.join(root, prefix)))
        if (HEX64.test(sha)) out.push(path.join(root, prefix, sha));
    }
    return out;
  }
}

/**
 * The store as activities see it: every `put` is claimed by the workflow that runs the activity
 * (the verification, or a child workflow such as a signature attempt), unless the caller names an owner.
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

/** The claim's name under its artifact: a hash of (owner, kind). */
export function claimKey(kind: string, owner: string | null): string {
  return crypto
    .createHash('sha256')
    .update(`${owner ?? ''}\0${kind}`)
    .digest('hex')
    .slice(0, 32);
}

/** The owner's name in the index. */
export function ownerKey(owner: string): string {
  return crypto.createHash('sha256').update(`owner\0${owner}`).digest('hex');
}

async function readClaim(file: string): Promise<EvidenceClaim | null> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as EvidenceClaim;
  } catch {
    return null; // released by another process between the listing and the read
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
