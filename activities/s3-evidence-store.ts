/**
 * The evidence store in an S3-compatible bucket (AWS S3, or any server speaking its API), for deployments
 * with several workers and API replicas. Same contract and same owner index as the folder store
 * (activities/evidence-store.ts), one object per file:
 *
 *   <prefix>sha256/<sha256>                                 the bytes
 *   <prefix>claims/<sha256>/<owner key>.<claim key>.json    one claim (JSON), written once
 *   <prefix>owners/<owner key>/<sha256>.<claim key>.json    the same claim, indexed by owner
 *
 * Listing, downloading and erasing one verification's evidence list only `owners/<owner key>/` and read
 * only those claims: the work does not grow with other verifications' claims. Keys carry hashes, never an
 * owner id or a kind in clear. Server-side encryption (SSE-KMS) and a lifecycle rule as a backstop to
 * retention are the bucket's settings.
 *
 * Known limit (S3 has no atomic "delete if the prefix is empty"): a `release` of the last claim on some bytes
 * racing with a `put` of the very same bytes by another verification can delete the bytes under the new
 * claim. The folder store closes that window with rmdir; here the next `put` of those bytes restores them.
 */
import crypto from 'node:crypto';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import type { EvidenceRef } from './evidence-types';
import { claimKey, ownerKey, type EvidenceClaim, type EvidenceStore } from './evidence-store';

const HEX64 = /^[a-f0-9]{64}$/;
const NO_OWNER = 'none';
/** Parallel GETs when reading a list of claims. */
const READ_CONCURRENCY = 16;

export interface S3EvidenceStoreOptions {
  client: S3Client;
  bucket: string;
  /** Key prefix inside the bucket, e.g. `evidence/` (default: none). */
  prefix?: string;
}

export class S3EvidenceStore implements EvidenceStore {
  readonly client: S3Client;
  readonly bucket: string;
  private readonly prefix: string;

  constructor(options: S3EvidenceStoreOptions) {
    this.client = options.client;
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? '';
  }

  async put(kind: string, contentType: string, bytes: Buffer, owner: string | null = null): Promise<EvidenceRef> {
    const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
    const claimObject = this.claimObject(sha256, kind, owner);
    // The claim first, then the bytes: retention never sees bytes without their claim.
    let claim = await this.readClaim(claimObject);
    if (!claim) {
      claim = { sha256, kind, owner, storedAt: new Date().toISOString(), size: bytes.length, contentType };
      await this.putJson(claimObject, claim);
    }
    // (Re)written on every put: a first put that died between the two writes leaves no hole in the index.
    if (owner !== null) await this.putJson(this.indexObject(sha256, kind, owner), claim);
    if (!(await this.has(sha256))) {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.bytesObject(sha256),
          Body: bytes,
          ContentType: contentType,
        }),
      );
    }
    return { kind, ref: `sha256:${sha256}`, sha256, size: bytes.length, contentType };
  }

  async get(sha256: string): Promise<Buffer | null> {
    if (!HEX64.test(sha256)) return null;
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.bytesObject(sha256) }));
      return Buffer.from(await out.Body!.transformToByteArray());
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async has(sha256: string): Promise<boolean> {
    if (!HEX64.test(sha256)) return false;
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.bytesObject(sha256) }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  async claims(filter: { owner?: string; sha256?: string } = {}): Promise<EvidenceClaim[]> {
    if (filter.sha256 !== undefined && !HEX64.test(filter.sha256)) return [];
    let listPrefix: string;
    if (filter.sha256 !== undefined) {
      listPrefix = `${this.prefix}claims/${filter.sha256}/${filter.owner !== undefined ? `${ownerKey(filter.owner)}.` : ''}`;
    } else if (filter.owner !== undefined) {
      listPrefix = `${this.prefix}owners/${ownerKey(filter.owner)}/`; // the owner index
    } else {
      listPrefix = `${this.prefix}claims/`; // the retention sweep: every claim
    }
    const keys = (await this.list(listPrefix)).filter((k) => k.endsWith('.json'));
    const claims = await mapBounded(keys, READ_CONCURRENCY, (key) => this.readClaim(key));
    return claims.filter(
      (c): c is EvidenceClaim => c !== null && (filter.owner === undefined || c.owner === filter.owner),
    );
  }

  async release(claim: Pick<EvidenceClaim, 'sha256' | 'kind' | 'owner'>): Promise<{ bytesDeleted: boolean }> {
    if (!HEX64.test(claim.sha256)) return { bytesDeleted: false };
    await this.deleteObject(this.claimObject(claim.sha256, claim.kind, claim.owner));
    if (claim.owner !== null) await this.deleteObject(this.indexObject(claim.sha256, claim.kind, claim.owner));
    if ((await this.list(`${this.prefix}claims/${claim.sha256}/`, 1)).length > 0) return { bytesDeleted: false };
    if (!(await this.has(claim.sha256))) return { bytesDeleted: false };
    await this.deleteObject(this.bytesObject(claim.sha256));
    return { bytesDeleted: true };
  }

  async delete(sha256: string): Promise<boolean> {
    if (!HEX64.test(sha256)) return false;
    for (const claim of await this.claims({ sha256 })) {
      await this.deleteObject(this.claimObject(sha256, claim.kind, claim.owner));
      if (claim.owner !== null) await this.deleteObject(this.indexObject(sha256, claim.kind, claim.owner));
    }
    // Claim objects unreadable as JSON (none are written so, but a bucket is shared ground) go too.
    for (const key of await this.list(`${this.prefix}claims/${sha256}/`)) await this.deleteObject(key);
    const existed = await this.has(sha256);
    if (existed) await this.deleteObject(this.bytesObject(sha256));
    return existed;
  }

  private bytesObject(sha256: string): string {
    return `${this.prefix}sha256/${sha256}`;
  }

  private claimObject(sha256: string, kind: string, owner: string | null): string {
    return `${this.prefix}claims/${sha256}/${owner === null ? NO_OWNER : ownerKey(owner)}.${claimKey(kind, owner)}.json`;
  }

  private indexObject(sha256: string, kind: string, owner: string): string {
    return `${this.prefix}owners/${ownerKey(owner)}/${sha256}.${claimKey(kind, owner)}.json`;
  }

  private async putJson(key: string, value: unknown): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: JSON.stringify(value),
        ContentType: 'application/json',
      }),
    );
  }

  private async readClaim(key: string): Promise<EvidenceClaim | null> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return JSON.parse(await out.Body!.transformToString('utf8')) as EvidenceClaim;
    } catch (err) {
      if (isNotFound(err) || err instanceof SyntaxError) return null; // released between the listing and the read
      throw err;
    }
  }

  private async deleteObject(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  /** Every key under a prefix (ListObjectsV2, paginated), or the first `limit`. */
  private async list(prefix: string, limit?: number): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const out = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: prefix,
          ContinuationToken: token,
          MaxKeys: limit ?? 1000,
        }),
      );
      for (const o of out.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token && (limit === undefined || keys.length < limit));
    return limit === undefined ? keys : keys.slice(0, limit);
  }
}

/** S3 settings from the environment (EVIDENCE_S3_*); null when EVIDENCE_S3_BUCKET is unset. */
export function s3EvidenceStoreFromEnv(env: NodeJS.ProcessEnv = process.env): S3EvidenceStore | null {
  const bucket = env.EVIDENCE_S3_BUCKET?.trim();
  if (!bucket) return null;
  const config: S3ClientConfig = {
    region: env.EVIDENCE_S3_REGION ?? env.AWS_REGION ?? 'us-east-1',
    // got's retry is off for vendors because Temporal retries; the SDK's own retry (3 attempts) stays on here,
    // since the store is also used by the API outside any activity.
  };
  if (env.EVIDENCE_S3_ENDPOINT) {
    config.endpoint = env.EVIDENCE_S3_ENDPOINT;
    config.forcePathStyle = env.EVIDENCE_S3_FORCE_PATH_STYLE !== 'false';
  }
  return new S3EvidenceStore({ client: new S3Client(config), bucket, prefix: env.EVIDENCE_S3_PREFIX ?? '' });
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

async function mapBounded<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const run = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
  return out;
}
