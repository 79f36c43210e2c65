/**
 * Encrypted payloads: the codec itself, the codec endpoint (auth, CORS, the protocol the Web UI and
 * the CLI speak), and key rotation: histories written under the old key still replay and read once a
 * new key encrypts, both a committed one (test/histories/encrypted/) and a live workflow that a worker
 * with the rotated keys carries on.
 */
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';
import { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../config';
import { buildApi } from '../client/app';
import { FolderEvidenceStore } from '../activities/evidence-store';
import {
  AesGcmPayloadCodec,
  dataConverter,
  ENCRYPTED_ENCODING,
  KEY_ID_METADATA,
  PayloadKeyUnknownError,
  type PayloadKeyring,
} from '../codec';
import { finwaveInput, finwaveOptions } from '../client/providers/finwave';
import { finwaveWebhookSignal, type finwaveOnboarding } from '../workflows/finwave';
import { ensureTemporalCli } from '../temporal-dev/ensure';
import { stateQuery, type VerificationState } from '../workflows/shared';
import { bundleOptions } from './helpers/stack';
import { connectToTestTemporal, type TestTemporal } from './helpers/temporal';
import { afterRotation, beforeRotation, newKeyOnly, NEW_KEY, OLD_KEY } from './fixtures/payload-keys';

const text = (b?: Uint8Array | null) => Buffer.from(b ?? new Uint8Array()).toString('utf8');
const json = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);

describe('the codec', () => {
  const codec = new AesGcmPayloadCodec(beforeRotation());

  test('encrypts with the current key, names it in the metadata, and decrypts back the exact payload', async () => {
    const plain = json({ lastName: 'Rossi', documentNumber: 'CA12345SB' });
    const [enc] = await codec.encode([plain]);
    expect(text(enc!.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(enc!.metadata![KEY_ID_METADATA])).toBe(OLD_KEY.id);
    expect(Buffer.from(enc!.data!).toString('latin1')).not.toContain('Rossi');
    const [dec] = await codec.decode([enc!]);
    expect(defaultPayloadConverter.fromPayload(dec!)).toEqual({ lastName: 'Rossi', documentNumber: 'CA12345SB' });
    expect(text(dec!.metadata!.encoding)).toBe('json/plain');
    // A fresh IV each time: the same value never gives the same ciphertext.
    const [again] = await codec.encode([plain]);
    expect(Buffer.from(again!.data!).equals(Buffer.from(enc!.data!))).toBe(false);
  });

  test('payloads written without the codec pass through (histories from before encryption)', async () => {
    const plain = json({ a: 1 });
    expect(await codec.decode([plain])).toEqual([plain]);
  });

  test('after rotation, the new key encrypts and the old key still decrypts; without the old key, a clear error', async () => {
    const [old] = await codec.encode([json('written before rotation')]);
    const rotated = new AesGcmPayloadCodec(afterRotation());
    const [fresh] = await rotated.encode([json('written after')]);
    expect(text(fresh!.metadata![KEY_ID_METADATA])).toBe(NEW_KEY.id);
    expect((await rotated.decode([old!, fresh!])).map((p) => defaultPayloadConverter.fromPayload(p))).toEqual([
      'written before rotation',
      'written after',
    ]);
    await expect(new AesGcmPayloadCodec(newKeyOnly()).decode([old!])).rejects.toThrow(PayloadKeyUnknownError);
    await expect(new AesGcmPayloadCodec(newKeyOnly()).decode([old!])).rejects.toThrow(
      `payload encrypted with key "${OLD_KEY.id}"`,
    );
  });

  test('a tampered payload or a swapped key id fails authentication', async () => {
    const [enc] = await codec.encode([json('x')]);
    const flipped = Buffer.from(enc!.data!);
    flipped[20] = flipped[20]! ^ 1;
    await expect(codec.decode([{ ...enc!, data: flipped }])).rejects.toThrow();
    const both = new AesGcmPayloadCodec(afterRotation());
    const swapped = { ...enc!, metadata: { ...enc!.metadata, [KEY_ID_METADATA]: Buffer.from(NEW_KEY.id) } };
    await expect(both.decode([swapped])).rejects.toThrow();
  });
});

describe('the codec endpoint', () => {
  let temporal: TestTemporal;
  let app: FastifyInstance;
  let url: string;
  const key = 'codec-test-key-0123456789';
  const uiOrigin = 'http://localhost:8233';

  beforeAll(async () => {
    temporal = await connectToTestTemporal();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'idv-codec-'));
    const config = loadConfig({
      TEMPORAL_ADDRESS: temporal.address,
      API_KEYS: `ops:${key},backend:backend-key-0123456789`,
      CODEC_KEY_IDS: 'ops',
      EVIDENCE_DIR: dir,
      AUDIT_DIR: path.join(dir, 'audit'),
      CODEC_UI_WITHOUT_TOKEN: 'false',
    });
    app = await buildApi({
      config,
      client: temporal.client,
      store: new FolderEvidenceStore(dir),
      logger: false,
      keyring: beforeRotation(),
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/codec`;
  });
  afterAll(async () => {
    await app?.close();
    await temporal?.close();
  });

  const asJson = (p: Payload) => ({
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    ),
    data: Buffer.from(p.data!).toString('base64'),
  });
  const post = (pathname: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${url}/${pathname}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  test('decodes what the Web UI sends, with a codec key; 401 without one, or with a key not allowed to decode', async () => {
    const [enc] = await new AesGcmPayloadCodec(beforeRotation()).encode([json({ firstName: 'Giulia' })]);
    const body = { payloads: [asJson(enc!)] };
    const ok = await post('decode', body, {
      authorization: `Bearer ${key}`,
      'x-namespace': 'default',
      origin: uiOrigin,
    });
    expect(ok.status).toBe(200);
    const decoded = (await ok.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    expect(Buffer.from(decoded.payloads[0]!.data, 'base64').toString()).toBe('{"firstName":"Giulia"}');
    expect(Buffer.from(decoded.payloads[0]!.metadata.encoding!, 'base64').toString()).toBe('json/plain');
    expect(ok.headers.get('access-control-allow-origin')).toBe(uiOrigin);

    const none = await post('decode', body, { origin: uiOrigin });
    expect(none.status).toBe(401);
    expect(none.headers.get('access-control-allow-origin')).toBe(uiOrigin); // the UI can read the refusal
    expect(await none.json()).toEqual({
      error: { code: 'unauthorized', message: 'the codec needs Authorization: Bearer <API key>' },
    });
    expect((await post('decode', body, { authorization: 'Bearer backend-key-0123456789' })).status).toBe(401); // not in CODEC_KEY_IDS
  });

  test('encode then decode round-trips; an empty Payloads `{}` and a payload of an unknown key are answered as they are', async () => {
    const auth = { authorization: `Bearer ${key}` };
    const encoded = (await (await post('encode', { payloads: [asJson(json('hello'))] }, auth)).json()) as {
      payloads: { metadata: Record<string, string>; data: string }[];
    };
    expect(Buffer.from(encoded.payloads[0]!.metadata[KEY_ID_METADATA]!, 'base64').toString()).toBe(OLD_KEY.id);
    const back = (await (await post('decode', encoded, auth)).json()) as { payloads: { data: string }[] };
    expect(Buffer.from(back.payloads[0]!.data, 'base64').toString()).toBe('"hello"');
    expect(await (await post('decode', {}, auth)).json()).toEqual({ payloads: [] });
    const [foreign] = await new AesGcmPayloadCodec(newKeyOnly()).encode([json('x')]);
    const kept = (await (await post('decode', { payloads: [asJson(foreign!)] }, auth)).json()) as {
      payloads: unknown[];
    };
    expect(kept.payloads[0]).toEqual(asJson(foreign!));
  });

  test('CORS: a preflight from the Web UI origin is allowed, any other origin is not', async () => {
    const preflight = (origin: string) =>
      fetch(`${url}/decode`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type,x-namespace',
        },
      });
    const ui = await preflight(uiOrigin);
    expect(ui.status).toBe(204);
    expect(ui.headers.get('access-control-allow-origin')).toBe(uiOrigin);
    expect(ui.headers.get('access-control-allow-headers')).toContain('authorization');
    expect(ui.headers.get('access-control-allow-credentials')).toBe('true');
    const evil = await preflight('https://evil.example');
    expect(evil.status).toBe(403);
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    const direct = await post(
      'decode',
      { payloads: [] },
      { authorization: `Bearer ${key}`, origin: 'https://evil.example' },
    );
    expect(direct.headers.get('access-control-allow-origin')).toBeNull(); // the browser hides the answer
  });
});

describe('the codec endpoint in development (API on loopback): the Web UI decodes without a token', () => {
  let temporal: TestTemporal;
  let app: FastifyInstance;
  let url: string;
  const uiOrigin = 'http://localhost:8233';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'idv-codec-dev-'));
  const base = { EVIDENCE_DIR: dir, AUDIT_DIR: path.join(dir, 'audit') };

  beforeAll(async () => {
    temporal = await connectToTestTemporal();
    const config = loadConfig({ TEMPORAL_ADDRESS: temporal.address, ...base }); // the defaults of `npm start`
    expect(config.personalData.codec.uiWithoutToken).toBe(true);
    app = await buildApi({
      config,
      client: temporal.client,
      store: new FolderEvidenceStore(dir),
      logger: false,
      keyring: beforeRotation(),
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/codec`;
  });
  afterAll(async () => {
    await app?.close();
    await temporal?.close();
  });

  test('decodes for the UI origin with no Authorization; 401 from any other origin, without an origin, or with a wrong token', async () => {
    const [enc] = await new AesGcmPayloadCodec(beforeRotation()).encode([json({ firstName: 'Giulia' })]);
    const body = JSON.stringify({
      payloads: [
        {
          metadata: Object.fromEntries(
            Object.entries(enc!.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
          ),
          data: Buffer.from(enc!.data!).toString('base64'),
        },
      ],
    });
    const post = (headers: Record<string, string>) =>
      fetch(`${url}/decode`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    const ui = await post({ origin: uiOrigin, 'x-namespace': 'default' });
    expect(ui.status).toBe(200);
    expect(ui.headers.get('access-control-allow-origin')).toBe(uiOrigin);
    const decoded = (await ui.json()) as { payloads: { data: string }[] };
    expect(Buffer.from(decoded.payloads[0]!.data, 'base64').toString()).toBe('{"firstName":"Giulia"}');
    expect((await post({ origin: 'http://localhost:9999' })).status).toBe(401);
    expect((await post({})).status).toBe(401);
    expect((await post({ origin: uiOrigin, authorization: 'Bearer not-a-key-0123456789' })).status).toBe(401);
  });

  test('never in production, never with the API on a non-loopback address', () => {
    expect(loadConfig({ ...base, API_HOST: '0.0.0.0' }).personalData.codec.uiWithoutToken).toBe(false);
    expect(loadConfig({ ...base, CODEC_UI_WITHOUT_TOKEN: 'false' }).personalData.codec.uiWithoutToken).toBe(false);
    expect(() => loadConfig({ ...base, API_HOST: '0.0.0.0', CODEC_UI_WITHOUT_TOKEN: 'true' })).toThrow(
      'CODEC_UI_WITHOUT_TOKEN',
    );
    const production = {
      ...base,
      APP_ENV: 'production',
      API_KEYS: 'backend:backend-key-0123456789',
      WEBHOOK_SECRET: 's'.repeat(40),
      PUBLIC_BASE_URL: 'https://idv.example.com',
      FINWAVE_BASE_URL: 'https://idgateway.finwave.com/management',
      FINWAVE_CLIENT_TOKEN: 'real-token',
      PAYLOAD_KEYS: `prod:${Buffer.alloc(32, 9).toString('base64')}`,
      AUDIT_KEYS: `audit:${Buffer.alloc(32, 8).toString('base64')}`,
    };
    expect(loadConfig(production).personalData.codec.uiWithoutToken).toBe(false);
    expect(() => loadConfig({ ...production, CODEC_UI_WITHOUT_TOKEN: 'true' })).toThrow('CODEC_UI_WITHOUT_TOKEN');
  });
});

describe('key rotation', () => {
  let temporal: TestTemporal;
  beforeAll(async () => {
    temporal = await connectToTestTemporal();
  });
  afterAll(async () => {
    await temporal?.close();
  });

  const dir = path.join(__dirname, 'histories', 'encrypted');
  const recorded = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
  const clientWith = (keyring: PayloadKeyring) =>
    new Client({ connection: temporal.connection, namespace: 'default', dataConverter: dataConverter(keyring) });
  const workerWith = async (keyring: PayloadKeyring, taskQueue: string) =>
    Worker.create({
      connection: temporal.connection,
      taskQueue,
      ...(await bundleOptions()),
      activities: fakeFinwave(),
      dataConverter: dataConverter(keyring),
      stickyQueueScheduleToStartTimeout: '1s',
    });

  test('a history recorded under the old key is committed', () => {
    expect(recorded.length).toBeGreaterThanOrEqual(1);
    const raw = fs.readFileSync(path.join(dir, recorded[0]!), 'utf8');
    expect(raw).toContain(Buffer.from(OLD_KEY.id).toString('base64')); // the key id, in every payload's metadata
    expect(raw).not.toContain('600000009'); // the phone number is ciphertext
  });

  test.each(recorded)('%s replays with the rotated keys, and its input reads with them', async (file) => {
    const history = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
    await Worker.runReplayHistory(
      { ...(await bundleOptions()), dataConverter: dataConverter(afterRotation()) },
      history,
      file,
    );
    const input = history.events[0].workflowExecutionStartedEventAttributes.input.payloads[0];
    const payload = {
      metadata: Object.fromEntries(
        Object.entries(input.metadata as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
      ),
      data: Buffer.from(input.data, 'base64'),
    };
    const [plain] = await new AesGcmPayloadCodec(afterRotation()).decode([payload]);
    expect(defaultPayloadConverter.fromPayload(plain!)).toMatchObject({ applicant: { phone: '600000009' } });
    // Without the old key it cannot: the rotation must keep old keys until those histories are gone.
    await expect(
      Worker.runReplayHistory(
        { ...(await bundleOptions()), dataConverter: dataConverter(newKeyOnly()) },
        history,
        file,
      ),
    ).rejects.toThrow();
  });

  test('a workflow started under the old key is carried on by a worker with the rotated keys', async () => {
    const taskQueue = `rotation-${crypto.randomBytes(4).toString('hex')}`;
    const id = `finwave:rotation-${crypto.randomBytes(4).toString('hex')}`;
    const before = clientWith(beforeRotation());
    const workerA = await workerWith(beforeRotation(), taskQueue);
    const handle = await workerA.runUntil(async () => {
      const h = await before.workflow.start<typeof finwaveOnboarding>('finwaveOnboarding', {
        workflowId: id,
        taskQueue,
        args: [rotationInput(id)],
      });
      for (let i = 0; i < 100 && (await h.query(stateQuery)).status !== 'awaiting_user'; i++)
        await new Promise((r) => setTimeout(r, 100));
      return h;
    });
    // The keys rotate: a new worker and a new client, the old key kept for decryption only.
    const after = clientWith(afterRotation());
    const workerB = await workerWith(afterRotation(), taskQueue);
    const done: VerificationState = await workerB.runUntil(async () => {
      await after.workflow
        .getHandle(handle.workflowId)
        .signal(finwaveWebhookSignal, { onboardingId: 'onb-rotation', result: 'FINISHED' });
      return after.workflow.getHandle<typeof finwaveOnboarding>(handle.workflowId).result();
    });
    expect(done).toMatchObject({ status: 'completed', outcome: 'approved' });
    // The history holds payloads under both keys.
    const history = JSON.stringify(await after.workflow.getHandle(id).fetchHistory());
    expect(history).toContain(Buffer.from(OLD_KEY.id).toString('base64'));
    expect(history).toContain(Buffer.from(NEW_KEY.id).toString('base64'));
    // Recorded histories for this repository's test/histories/encrypted/ (RECORD_ENCRYPTED_HISTORY=1, with the old key only).
    if (process.env.RECORD_ENCRYPTED_HISTORY) await record(id);
  });

  test('recording (RECORD_ENCRYPTED_HISTORY=1): a Finwave verification entirely under the old key', async () => {
    if (!process.env.RECORD_ENCRYPTED_HISTORY) return;
    const taskQueue = `record-${crypto.randomBytes(4).toString('hex')}`;
    const id = `finwave:encrypted-${crypto.randomBytes(4).toString('hex')}`;
    const client = clientWith(beforeRotation());
    const worker = await workerWith(beforeRotation(), taskQueue);
    await worker.runUntil(async () => {
      const h = await client.workflow.start<typeof finwaveOnboarding>('finwaveOnboarding', {
        workflowId: id,
        taskQueue,
        args: [rotationInput(id)],
      });
      for (let i = 0; i < 100 && (await h.query(stateQuery)).status !== 'awaiting_user'; i++)
        await new Promise((r) => setTimeout(r, 100));
      await h.signal(finwaveWebhookSignal, { onboardingId: 'onb-rotation', result: 'FINISHED' });
      await h.result();
    });
    await record(id, 'finwave-approved-test-2025a.json');
  });

  async function record(id: string, name = 'latest.json'): Promise<void> {
    const cli = await ensureTemporalCli();
    const { stdout } = await promisify(execFile)(
      cli,
      [
        'workflow',
        'show',
        '--workflow-id',
        id,
        '--output',
        'json',
        '--address',
        temporal.address,
        '--namespace',
        'default',
      ],
      { maxBuffer: 16 * 1024 * 1024 },
    );
    fs.writeFileSync(path.join(dir, name), stdout);
  }
});

function rotationInput(id: string) {
  return finwaveInput(
    id,
    id.split(':')[1]!,
    { phoneCountryCode: '+34', phone: '600000009' },
    finwaveOptions.parse({ pollInterval: '1 hour' }),
  );
}

/** Finwave's activities, answering without a vendor: created, then FINISHED with a good score. */
function fakeFinwave() {
  const ref = (kind: string) => ({
    kind,
    ref: `sha256:${'ab'.repeat(32)}`,
    sha256: 'ab'.repeat(32),
    size: 3,
    contentType: 'application/octet-stream',
  });
  return {
    finwaveCreateIntegration: async () => ({
      onboardingId: 'onb-rotation',
      url: 'https://finwave.example/onboarding/onb-rotation',
      status: 'CREATED' as const,
    }),
    finwaveGetResult: async () => ({
      onboardingId: 'onb-rotation',
      status: 'FINISHED' as const,
      score: 93,
      steps: { ocr: true },
      errorEvent: null,
      startedAt: null,
      finishedAt: null,
      acceptations: [],
      resultRef: ref('finwave-result-json'),
    }),
    finwaveDownloadEvidence: async () => ref('finwave-evidence-zip'),
  };
}
