/**
 * One test suite for every EvidenceStore backend: the folder store (the embedded default) and the S3 store
 * against a real S3-compatible server (moto, test/helpers/s3.ts).
 *
 * The scale test stores 10,000 claims of other verifications and checks that listing, downloading and
 * erasing one verification's evidence does the same work as in an empty store: counted as file reads and
 * directory listings (folder) or S3 requests (S3), not as time.
 */
import crypto from 'node:crypto';
import fsp from 'node:fs/promises';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { claimKey, FolderEvidenceStore, ownerKey, type EvidenceStore } from '../activities/evidence-store';
import { S3EvidenceStore } from '../activities/s3-evidence-store';
import { startS3TestServer, type S3TestServer } from './helpers/s3';

interface Backend {
  name: string;
  /** A new, empty store. */
  create(): Promise<EvidenceStore>;
  /** Work done by a store so far: file reads + directory listings, or S3 requests. */
  work(store: EvidenceStore): number;
  /** What `work` counts, for failure messages. */
  detail(store: EvidenceStore): Record<string, number>;
  /** Stores claims of other verifications (many: bounded concurrency). */
  seed(store: EvidenceStore, claims: Array<{ kind: string; owner: string; bytes: Buffer }>): Promise<void>;
}

async function eachBounded<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

const folderCounts = { readFile: 0, readdir: 0 };
let s3: S3TestServer;
const tmpDirs: string[] = [];
const s3Counts = new WeakMap<EvidenceStore, Record<string, number>>();

const backends: Backend[] = [
  {
    name: 'folder',
    async create() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'idv-evidence-'));
      tmpDirs.push(dir);
      return new FolderEvidenceStore(dir);
    },
    work: () => folderCounts.readFile + folderCounts.readdir,
    detail: () => ({ ...folderCounts }),
    seed: (store, claims) =>
      eachBounded(
        claims,
        16,
        async (c) => void (await store.put(c.kind, 'application/octet-stream', c.bytes, c.owner)),
      ),
  },
  {
    name: 's3',
    async create() {
      const bucket = `evidence-${crypto.randomBytes(4).toString('hex')}`;
      await s3.createBucket(bucket);
      const client = s3.client();
      const counts: Record<string, number> = {};
      client.middlewareStack.add(
        (next, context) => async (args) => {
          const name = String(context.commandName);
          counts[name] = (counts[name] ?? 0) + 1;
          return next(args);
        },
        { step: 'initialize', name: 'countRequests' },
      );
      const store = new S3EvidenceStore({ client, bucket, prefix: 'evidence/' });
      s3Counts.set(store, counts);
      return store;
    },
    work: (store) => Object.values(s3Counts.get(store) ?? {}).reduce((a, b) => a + b, 0),
    detail: (store) => ({ ...s3Counts.get(store) }),
    // The objects `put` writes for a claim (the claim and its owner index entry), written directly: two requests
    // per claim instead of five keeps moto's share of the run near a minute. The others' bytes are left out:
    // nothing under test reads them.
    seed: async (store, claims) => {
      const { client, bucket } = store as S3EvidenceStore;
      const storedAt = new Date().toISOString();
      await eachBounded(claims, 32, async (c) => {
        const sha256 = sha(c.bytes);
        const body = JSON.stringify({
          sha256,
          kind: c.kind,
          owner: c.owner,
          storedAt,
          size: c.bytes.length,
          contentType: 'application/octet-stream',
        });
        const k = claimKey(c.kind, c.owner);
        const o = ownerKey(c.owner);
        await client.send(
          new PutObjectCommand({ Bucket: bucket, Key: `evidence/claims/${sha256}/${o}.${k}.json`, Body: body }),
        );
        await client.send(
          new PutObjectCommand({ Bucket: bucket, Key: `evidence/owners/${o}/${sha256}.${k}.json`, Body: body }),
        );
      });
    },
  },
];

beforeAll(async () => {
  s3 = await startS3TestServer();
  // Count the folder store's reads: it imports the same node:fs/promises module object.
  const realReadFile = fsp.readFile.bind(fsp);
  const realReaddir = fsp.readdir.bind(fsp);
  jest.spyOn(fsp, 'readFile').mockImplementation((...args: Parameters<typeof fsp.readFile>) => {
    folderCounts.readFile++;
    return realReadFile(...args);
  });
  jest.spyOn(fsp, 'readdir').mockImplementation(((...args: Parameters<typeof fsp.readdir>) => {
    folderCounts.readdir++;
    return (realReaddir as (...a: unknown[]) => Promise<unknown>)(...args);
  }) as unknown as typeof fsp.readdir);
}, 600_000);

afterAll(async () => {
  jest.restoreAllMocks();
  await s3?.stop();
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

const bytes = (tag: string) => Buffer.concat([Buffer.from(tag), crypto.randomBytes(16)]);
const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

describe.each(backends)('$name evidence store', (backend) => {
  test('put, get, has; identical bytes are kept once and claimed per owner and kind', async () => {
    const store = await backend.create();
    const a = bytes('a');
    const ref = await store.put('finwave-evidence-zip', 'application/zip', a, 'finwave:1');
    expect(ref).toEqual({
      kind: 'finwave-evidence-zip',
      ref: `sha256:${sha(a)}`,
      sha256: sha(a),
      size: a.length,
      contentType: 'application/zip',
    });
    expect(await store.get(sha(a))).toEqual(a);
    expect(await store.has(sha(a))).toBe(true);
    expect(await store.has(sha(bytes('missing')))).toBe(false);
    expect(await store.get(sha(bytes('missing')))).toBeNull();
    expect(await store.get('../../etc/passwd')).toBeNull();

    const first = (await store.claims({ owner: 'finwave:1' }))[0]!;
    await new Promise((r) => setTimeout(r, 5));
    await store.put('finwave-evidence-zip', 'application/zip', a, 'finwave:1'); // a repeat keeps the first time
    await store.put('fourthline-contract', 'application/pdf', a, 'fourthline:2');
    expect(await store.claims({ owner: 'finwave:1' })).toEqual([first]);
    expect((await store.claims({ sha256: sha(a) })).map((c) => c.owner).sort()).toEqual(['finwave:1', 'fourthline:2']);
    expect((await store.claims({ sha256: sha(a), owner: 'fourthline:2' })).map((c) => c.kind)).toEqual([
      'fourthline-contract',
    ]);
    expect(await store.claims({ sha256: 'not-a-hash' })).toEqual([]);
    expect(await store.claims({ owner: 'nobody' })).toEqual([]);
  });

  test('release keeps bytes another claim holds, deletes them with the last claim; the owner index follows', async () => {
    const store = await backend.create();
    const shared = bytes('shared');
    const own = bytes('own');
    await store.put('id360-selfie', 'image/jpeg', shared, 'id360:c');
    await store.put('id360-document-page-0', 'image/jpeg', shared, 'id360:d');
    await store.put('id360-report', 'application/pdf', own, 'id360:c');
    await store.put('orphan', 'application/octet-stream', bytes('orphan'), null);
    expect(await store.claims()).toHaveLength(4);

    expect(await store.release({ sha256: sha(shared), kind: 'id360-selfie', owner: 'id360:c' })).toEqual({
      bytesDeleted: false,
    });
    expect(await store.get(sha(shared))).toEqual(shared);
    expect((await store.claims({ owner: 'id360:c' })).map((c) => c.kind)).toEqual(['id360-report']);
    expect(await store.release({ sha256: sha(own), kind: 'id360-report', owner: 'id360:c' })).toEqual({
      bytesDeleted: true,
    });
    expect(await store.has(sha(own))).toBe(false);
    expect(await store.claims({ owner: 'id360:c' })).toEqual([]);
    expect(await store.release({ sha256: sha(shared), kind: 'id360-document-page-0', owner: 'id360:d' })).toEqual({
      bytesDeleted: true,
    });
    expect(await store.has(sha(shared))).toBe(false);
    expect((await store.claims()).map((c) => c.kind)).toEqual(['orphan']);
  });

  test('delete removes the bytes, every claim on them and their owner index entries', async () => {
    const store = await backend.create();
    const b = bytes('b');
    const keep = bytes('keep');
    await store.put('namirial-signed-pdf', 'application/pdf', b, 'namirial:1');
    await store.put('namirial-signed-pdf', 'application/pdf', b, 'namirial:2');
    await store.put('namirial-audit-trail', 'application/pdf', keep, 'namirial:1');
    expect(await store.delete(sha(b))).toBe(true);
    expect(await store.has(sha(b))).toBe(false);
    expect(await store.claims({ sha256: sha(b) })).toEqual([]);
    expect(await store.claims({ owner: 'namirial:2' })).toEqual([]);
    expect((await store.claims({ owner: 'namirial:1' })).map((c) => c.kind)).toEqual(['namirial-audit-trail']);
    expect(await store.delete(sha(b))).toBe(false);
  });

  test('listing, downloading and erasing one verification does the same work with 10,000 other claims', async () => {
    const store = await backend.create();
    // The work of one verification's life after its flow: list its claims, download each, erase (release) them.
    const exercise = async (owner: string): Promise<number> => {
      const files = [bytes(`${owner}-zip`), bytes(`${owner}-selfie`), bytes(`${owner}-report`)];
      for (const [i, f] of files.entries()) await store.put(`kind-${i}`, 'application/octet-stream', f, owner);
      const before = backend.work(store);
      const claims = await store.claims({ owner });
      expect(claims).toHaveLength(3);
      for (const c of claims) expect(await store.get(c.sha256)).not.toBeNull();
      for (const c of claims) expect((await store.release(c)).bytesDeleted).toBe(true);
      expect(await store.claims({ owner })).toEqual([]);
      return backend.work(store) - before;
    };

    const inEmptyStore = await exercise('finwave:first');

    // 10,000 claims of 2,500 other verifications.
    await backend.seed(
      store,
      Array.from({ length: 10_000 }, (_, i) => ({
        kind: `kind-${i % 4}`,
        owner: `finwave:other-${Math.floor(i / 4)}`,
        bytes: Buffer.from(`other-${i}`),
      })),
    );
    expect(await store.claims({ owner: 'finwave:other-42' })).toHaveLength(4);

    const withOthers = await exercise('finwave:second');
    expect({ withOthers, detail: backend.detail(store) }).toEqual({
      withOthers: inEmptyStore,
      detail: expect.anything(),
    });
    expect(inEmptyStore).toBeLessThan(40); // a scan would be >= 10,000
  }, 600_000);
});

test('a folder written before the owner index existed is indexed once, on first use', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'idv-evidence-legacy-'));
  tmpDirs.push(dir);
  const a = bytes('legacy');
  await new FolderEvidenceStore(dir).put('finwave-evidence-zip', 'application/zip', a, 'finwave:legacy');
  // What a store of the previous release left: the claim files, no owner index.
  fs.rmSync(path.join(dir, 'owners'), { recursive: true });
  const store = new FolderEvidenceStore(dir);
  expect((await store.claims({ owner: 'finwave:legacy' })).map((c) => c.sha256)).toEqual([sha(a)]);
  expect(fs.existsSync(path.join(dir, 'owners', '.complete'))).toBe(true);
});
