/**
 * The audit log: the folder log (embedded default) and the PostgreSQL log (shared by API replicas), one suite;
 * the PostgreSQL hash chain (tampering detected); its own audit keys (removing a payload key never makes the
 * log unreadable, and GET …/audit never answers 500 for a line whose key is gone).
 *
 * PostgreSQL: a throw-away cluster in a temp dir on a free port (temporal-dev/postgres.ts).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { FolderEvidenceStore } from '../activities/evidence-store';
import { buildApi } from '../client/app';
import { FolderAuditLog, UNREADABLE_AUDIT_EVENT, type AuditLog } from '../client/audit-log';
import { PostgresAuditLog } from '../client/pg-audit-log';
import { keyringOf } from '../codec';
import { loadConfig } from '../config';
import { freePort } from '../temporal-dev/dev-server';
import { startPostgres, type PostgresHandle } from '../temporal-dev/postgres';
import type { AuditEntry } from '../workflows/shared';
import { connectToTestTemporal, type TestTemporal } from './helpers/temporal';

const key = (n: number) => Buffer.alloc(32, n);
const auditKeys = keyringOf([{ id: 'audit-1', key: key(1) }], 'audit-1');
const oldPayload = keyringOf([{ id: 'p-old', key: key(2) }], 'p-old');
const newPayloadOnly = keyringOf([{ id: 'p-new', key: key(3) }], 'p-new');
const entry = (event: string, at = new Date().toISOString()): AuditEntry => ({
  at,
  event,
  actor: { keyId: 'backend', endUserIp: '203.0.113.7', endUserAgent: 'Mozilla/5.0' },
  detail: { n: event.length },
});

let tmp: string;
let pg: PostgresHandle;
const pools: PostgresAuditLog[] = [];

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'idv-audit-'));
  pg = await startPostgres({ dataDir: path.join(tmp, 'pg'), port: await freePort() });
}, 120_000);

afterAll(async () => {
  for (const p of pools) await p.close().catch(() => undefined);
  await pg?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

let dbCount = 0;
async function freshDatabase(): Promise<string> {
  const name = `audit_${++dbCount}`;
  const admin = new PostgresAuditLog(pg.url('postgres'), auditKeys);
  await admin.pool.query(`CREATE DATABASE ${name}`);
  await admin.close();
  return pg.url(name);
}

function pgLog(url: string, legacy?: typeof oldPayload): PostgresAuditLog {
  const log = new PostgresAuditLog(url, auditKeys, legacy);
  pools.push(log);
  return log;
}

const backends: {
  name: string;
  create(legacy?: typeof oldPayload): Promise<(legacy?: typeof oldPayload) => AuditLog>;
}[] = [
  {
    name: 'folder',
    async create() {
      const dir = fs.mkdtempSync(path.join(tmp, 'folder-'));
      return (legacy) => new FolderAuditLog(dir, auditKeys, legacy);
    },
  },
  {
    name: 'postgres',
    async create() {
      const url = await freshDatabase();
      return (legacy) => pgLog(url, legacy);
    },
  },
];

describe.each(backends)('$name audit log', (backend) => {
  test('entries come back per verification, in order, decrypted', async () => {
    const open = await backend.create();
    const log = open(oldPayload);
    await log.append('finwave:a', entry('created'));
    await log.append('finwave:b', entry('other'));
    await log.append('finwave:a', entry('personal data erased'));
    expect((await log.read('finwave:a')).map((e) => e.event)).toEqual(['created', 'personal data erased']);
    expect((await log.read('finwave:a'))[0]!.actor).toEqual({
      keyId: 'backend',
      endUserIp: '203.0.113.7',
      endUserAgent: 'Mozilla/5.0',
    });
    expect(await log.read('finwave:none')).toEqual([]);
  });

  test('written with the audit key: removing every payload key leaves the log readable', async () => {
    const open = await backend.create();
    await open(oldPayload).append('id360:x', entry('personal data erased'));
    // A later release: the old payload key rotated out, the audit key stays.
    expect((await open(newPayloadOnly).read('id360:x')).map((e) => e.event)).toEqual(['personal data erased']);
    expect((await open(undefined).read('id360:x')).map((e) => e.event)).toEqual(['personal data erased']);
  });
});

test('folder: a line written with a payload key (before AUDIT_KEYS) reads while that key is configured, then as unreadable, never an error', async () => {
  const dir = fs.mkdtempSync(path.join(tmp, 'legacy-'));
  const at = '2026-01-02T03:04:05.000Z';
  // What the previous release wrote: the payload keyring as the audit keyring.
  await new FolderAuditLog(dir, oldPayload).append('namirial:legacy', entry('personal data erased', at));
  expect((await new FolderAuditLog(dir, auditKeys, oldPayload).read('namirial:legacy')).map((e) => e.event)).toEqual([
    'personal data erased',
  ]);
  const [gone] = await new FolderAuditLog(dir, auditKeys, newPayloadOnly).read('namirial:legacy');
  expect(gone).toMatchObject({ event: UNREADABLE_AUDIT_EVENT, actor: null, detail: { keyId: 'p-old' } });
  expect(JSON.stringify(gone)).not.toContain('203.0.113.7');
});

test("GET …/audit answers 200 (not 500) when an audit line's key is no longer configured", async () => {
  const temporal: TestTemporal = await connectToTestTemporal();
  const dir = fs.mkdtempSync(path.join(tmp, 'api-'));
  const auditDir = path.join(dir, 'audit');
  const id = `finwave:audit-${crypto.randomBytes(4).toString('hex')}`; // no workflow: the log alone answers
  await new FolderAuditLog(auditDir, oldPayload).append(id, entry('personal data erased', '2026-01-02T03:04:05.000Z'));
  const config = loadConfig({
    TEMPORAL_ADDRESS: temporal.address,
    API_KEYS: 'backend:backend-key-0123456789',
    EVIDENCE_DIR: dir,
    AUDIT_DIR: auditDir,
  });
  const app = await buildApi({
    config,
    client: temporal.client,
    store: new FolderEvidenceStore(dir),
    logger: false,
    keyring: newPayloadOnly,
    auditKeyring: auditKeys,
  });
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const res = await fetch(
      `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1/verifications/${id}/audit`,
      {
        headers: { authorization: 'Bearer backend-key-0123456789' },
      },
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { entries: { event: string; at: string }[] };
    expect(body.entries).toEqual([
      expect.objectContaining({
        event: UNREADABLE_AUDIT_EVENT,
        at: '2026-01-02T03:04:05.000Z',
        recordedIn: 'audit-log',
      }),
    ]);
  } finally {
    await app.close();
    await temporal.close();
  }
});

describe('postgres audit log: one chain for every replica', () => {
  test('two replicas appending at once build one unbroken chain', async () => {
    const url = await freshDatabase();
    const [a, b] = [pgLog(url), pgLog(url)];
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).append(`fourthline:${i % 5}`, entry(`step ${i}`))),
    );
    expect(await a.verify()).toMatchObject({ ok: true, rows: 40, firstBadSeq: null });
    expect((await b.read('fourthline:3')).map((e) => e.event).sort()).toEqual(
      ['step 13', 'step 18', 'step 23', 'step 28', 'step 3', 'step 33', 'step 38', 'step 8'].sort(),
    );
  });

  test('updates and deletes are refused; tampering with the trigger disabled is detected', async () => {
    const url = await freshDatabase();
    const log = pgLog(url);
    for (const i of [1, 2, 3, 4]) await log.append('authenteq:t', entry(`step ${i}`));
    expect(await log.verify()).toMatchObject({ ok: true, rows: 4 });
    await expect(log.pool.query(`UPDATE audit_log SET at = '2020-01-01T00:00:00.000Z' WHERE seq = 2`)).rejects.toThrow(
      'append-only',
    );
    await expect(log.pool.query('DELETE FROM audit_log WHERE seq = 2')).rejects.toThrow('append-only');
    await expect(log.pool.query('TRUNCATE audit_log')).rejects.toThrow('append-only');

    // Someone with the table owner's rights: triggers off, one row's time rewritten.
    await log.pool.query('ALTER TABLE audit_log DISABLE TRIGGER USER');
    await log.pool.query(`UPDATE audit_log SET at = '2020-01-01T00:00:00.000Z' WHERE seq = 2`);
    expect(await log.verify()).toMatchObject({ ok: false, firstBadSeq: '2' });
  });

  test('a row removed from the middle breaks the chain', async () => {
    const url = await freshDatabase();
    const log = pgLog(url);
    for (const i of [1, 2, 3]) await log.append('id360:r', entry(`step ${i}`));
    await log.pool.query('ALTER TABLE audit_log DISABLE TRIGGER USER');
    await log.pool.query('DELETE FROM audit_log WHERE seq = 2');
    expect(await log.verify()).toMatchObject({ ok: false, firstBadSeq: '3' });
  });
});
