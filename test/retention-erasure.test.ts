/**
 * Evidence retention, erasure, evidence listing and download, and the audit trail.
 *
 * - Retention: the `evidenceRetention` workflow on the time-skipping server (31 days pass in
 *   seconds; the Java test server implements no Schedules), then the real Schedule on the dev
 *   server: created idempotently, triggered, its run releases what expired.
 * - Erasure: DELETE /v1/verifications/:id/personal-data on finished and running verifications,
 *   with bytes shared by two verifications kept for the other; recorded in the audit trail.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { FolderEvidenceStore } from '../activities/evidence-store';
import { createRetentionActivities } from '../activities/retention';
import { ensureRetentionSchedule, retentionScheduleId } from '../client/retention-schedule';
import { workflowTaskQueue } from '../config';
import type { evidenceRetention } from '../workflows/retention';
import { API_KEY, control, startStack, bundleOptions, type Stack } from './helpers/stack';
import { connectToTestTemporal, createTimeSkippingEnv, testDataConverter, type TestTemporal } from './helpers/temporal';

const DAY = 86_400_000;
const jpeg = (tag: string) =>
  Buffer.concat([
    Buffer.from('ffd8ffe000104a464946', 'hex'),
    Buffer.from(tag),
    crypto.randomBytes(24),
    Buffer.from('ffd9', 'hex'),
  ]);

describe('retention (time-skipping server)', () => {
  let env: TestWorkflowEnvironment;
  let dir: string;
  beforeAll(async () => {
    env = await createTimeSkippingEnv();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'idv-retention-'));
  });
  afterAll(async () => {
    await env?.teardown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('selfies go after 30 days, the evidence ZIP stays; bytes another claim still holds stay', async () => {
    const store = new FolderEvidenceStore(dir);
    const rules = [
      { pattern: '*-selfie', ms: 30 * DAY },
      { pattern: '*', ms: 1825 * DAY },
    ];
    const selfie = await store.put('fourthline-selfie', 'image/jpeg', jpeg('selfie'), 'fourthline:a');
    const zip = await store.put('finwave-evidence-zip', 'application/zip', Buffer.from('PK\x03\x04 zip'), 'finwave:b');
    // The same bytes as another verification's selfie, kept as a document page (5 years).
    const shared = jpeg('shared');
    await store.put('id360-selfie', 'image/jpeg', shared, 'id360:c');
    await store.put('id360-document-page-0', 'image/jpeg', shared, 'id360:d');
    const sharedSha = crypto.createHash('sha256').update(shared).digest('hex');

    const taskQueue = `retention-${crypto.randomBytes(4).toString('hex')}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      ...(await bundleOptions()),
      activities: createRetentionActivities({ store, rules }),
      dataConverter: testDataConverter(),
    });
    await worker.runUntil(async () => {
      // A plain client: the environment's own would unlock time skipping while it waits for a result,
      // and the idle server would then jump to its next timer (years ahead). Here time moves only by env.sleep.
      const client = new Client({
        connection: env.connection,
        namespace: env.namespace ?? 'default',
        dataConverter: testDataConverter(),
      });
      const run = () =>
        client.workflow.execute<typeof evidenceRetention>('evidenceRetention', {
          taskQueue,
          workflowId: `retention-${crypto.randomUUID()}`,
        });
      const today = await run();
      expect(today).toMatchObject({ examined: 4, released: {}, bytesDeleted: 0 });
      await env.sleep('29 days');
      const soon = await run();
      expect({
        days: Math.round((Date.parse(soon.now) - Date.parse(today.now)) / DAY),
        released: soon.released,
      }).toEqual({ days: 29, released: {} });
      await env.sleep('2 days');
      const later = await run();
      expect(later.released).toEqual({ 'fourthline-selfie': 1, 'id360-selfie': 1 });
      expect(later.bytesDeleted).toBe(1);
      expect(Date.parse(later.now) - Date.now()).toBeGreaterThan(30 * DAY); // judged at workflow time
    });
    expect(await store.has(selfie.sha256)).toBe(false);
    expect(await store.has(zip.sha256)).toBe(true);
    expect(await store.has(sharedSha)).toBe(true); // still the document page of id360:d
    expect((await store.claims({ sha256: sharedSha })).map((c) => c.kind)).toEqual(['id360-document-page-0']);
  });
});

describe('on the dev server', () => {
  let temporal: TestTemporal;
  let stack: Stack;
  beforeAll(async () => {
    temporal = await connectToTestTemporal();
    stack = await startStack({ ...temporal, env: { EVIDENCE_RETENTION: 'test-expiring:1s' } });
  });
  afterAll(async () => {
    await stack?.stop();
    await temporal?.close();
  });

  const ref = (name: string) => `re-${name}-${crypto.randomBytes(4).toString('hex')}`;
  const endUser = { 'x-end-user-ip': '203.0.113.7', 'x-end-user-agent': 'Mozilla/5.0 (retention test)' };
  async function call(method: string, urlPath: string, body?: unknown) {
    const res = await fetch(`${stack.apiUrl}${urlPath}`, {
      method,
      headers: {
        authorization: `Bearer ${API_KEY}`,
        ...endUser,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      body: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : undefined,
      text,
    };
  }

  /** An ID360 verification in API mode, up to the uploaded page (running, waiting for finalize). */
  async function id360WithPage(page: Buffer) {
    const v = await call('POST', '/v1/verifications', { provider: 'id360', reference: ref('id360') });
    expect(v.status).toBe(201);
    expect(
      (
        await call('POST', `/v1/verifications/${v.body.id}/actions/consent`, {
          acceptedCgu: true,
          acceptedBiometry: false,
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await call('POST', `/v1/verifications/${v.body.id}/actions/upload-document-page`, {
          page: 0,
          totalPages: 1,
          contentType: 'image/jpeg',
          data: page.toString('base64'),
        })
      ).status,
    ).toBe(200);
    return v.body.id as string;
  }

  test('the Schedule: created once (again: updated), on the housekeeping queue; a triggered run releases what expired', async () => {
    const scheduleId = await ensureRetentionSchedule(temporal.client, stack.config);
    expect(await ensureRetentionSchedule(temporal.client, stack.config)).toBe(scheduleId); // idempotent
    const handle = temporal.client.schedule.getHandle(scheduleId);
    const d = await handle.describe();
    expect(scheduleId).toBe(retentionScheduleId(stack.config));
    expect(d.spec.intervals).toMatchObject([{ every: 86_400_000 }]);
    expect(d.action).toMatchObject({
      type: 'startWorkflow',
      workflowType: 'evidenceRetention',
      taskQueue: workflowTaskQueue(stack.config),
    });

    const expiring = await stack.store.put(
      'test-expiring',
      'text/plain',
      Buffer.from(`expiring ${crypto.randomUUID()}`),
      'finwave:expiring',
    );
    const kept = await stack.store.put(
      'test-kept',
      'text/plain',
      Buffer.from(`kept ${crypto.randomUUID()}`),
      'finwave:kept',
    );
    await new Promise((r) => setTimeout(r, 1_100));
    await handle.trigger();
    let runs: { workflowId: string }[] = [];
    for (let i = 0; i < 100 && runs.length === 0; i++) {
      runs = (await handle.describe()).info.recentActions.map((a) => a.action.workflow);
      if (runs.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    const report = await temporal.client.workflow.getHandle(runs[0]!.workflowId).result();
    expect(report.released['test-expiring']).toBe(1);
    expect(await stack.store.has(expiring.sha256)).toBe(false);
    expect(await stack.store.has(kept.sha256)).toBe(true);
    await handle.delete();
  });

  test('evidence: listed with hashes, downloaded with a digest that matches; erasure removes it and is recorded', async () => {
    const v = await call('POST', '/v1/verifications', {
      provider: 'finwave',
      reference: ref('finwave'),
      options: { acceptations: [{ mandatory: true, text: 'I accept the terms' }] },
    });
    expect(v.status).toBe(201);
    await control(stack, `/finwave/_sandbox/onboardings/${v.body.providerReference}/finish`, {
      scenario: 'approved',
      person: { name: 'Erasme Leblanc', documentNumber: 'ER0001' },
    });
    const done = await stack.waitFor(v.body.id, (s) => s.status === 'completed');
    await temporal.client.workflow.getHandle(done.id).result(); // closed

    const list = await call('GET', `/v1/verifications/${done.id}/evidence`);
    expect(list.status).toBe(200);
    expect(list.body.artifacts.map((a: { kind: string }) => a.kind).sort()).toEqual([
      'finwave-evidence-zip',
      'finwave-result-json',
    ]);
    for (const a of list.body.artifacts) {
      expect(a).toMatchObject({ available: true, storedAt: expect.any(String) });
      const res = await fetch(`${stack.apiUrl}${a.download}`, { headers: { authorization: `Bearer ${API_KEY}` } });
      const bytes = Buffer.from(await res.arrayBuffer());
      expect(res.headers.get('x-content-sha256')).toBe(a.sha256);
      expect(crypto.createHash('sha256').update(bytes).digest('hex')).toBe(a.sha256);
      expect(res.headers.get('repr-digest')).toBe(
        `sha-256=:${crypto.createHash('sha256').update(bytes).digest('base64')}:`,
      );
    }
    // Only this verification's artifacts: another sha256 is not found through it.
    expect((await call('GET', `/v1/verifications/${done.id}/evidence/${'0'.repeat(64)}`)).status).toBe(404);
    expect((await call('GET', `/v1/verifications/${done.id}/evidence`, undefined)).status).toBe(200);
    expect((await fetch(`${stack.apiUrl}/v1/verifications/${done.id}/evidence`)).status).toBe(401);

    const erased = await call('DELETE', `/v1/verifications/${done.id}/personal-data`);
    expect(erased.status).toBe(200);
    expect(erased.body).toMatchObject({ id: done.id, deleted: 2, keptForOthers: 0, recordedIn: ['audit-log'] });
    for (const a of list.body.artifacts) expect(await stack.store.has(a.sha256)).toBe(false);
    const after = await call('GET', `/v1/verifications/${done.id}/evidence`);
    expect(after.body.artifacts.every((a: { available: boolean }) => !a.available)).toBe(true);
    expect((await call('GET', after.body.artifacts[0].download.replace(/^/, ''))).status).toBe(404);

    // The audit trail: who created it, what the applicant was shown and answered, who downloaded, who erased.
    const audit = await call('GET', `/v1/verifications/${done.id}/audit?export=true`);
    expect(audit.headers.get('content-disposition')).toBe(
      `attachment; filename="audit-${done.id.replace(':', '_')}.json"`,
    );
    const events = audit.body.entries.map((e: { event: string }) => e.event);
    expect(events).toEqual([
      'created',
      'consent shown',
      'consent answered',
      'evidence downloaded',
      'evidence downloaded',
      'personal data erased',
    ]);
    const actor = { keyId: 'tests', endUserIp: '203.0.113.7', endUserAgent: 'Mozilla/5.0 (retention test)' };
    expect(audit.body.entries[0]).toMatchObject({ actor, recordedIn: 'workflow' });
    expect(audit.body.entries[2]).toMatchObject({
      actor: null,
      detail: { acceptations: [{ text: 'I accept the terms', accepted: true, mandatory: true }] },
    });
    expect(audit.body.entries[3].actor).toEqual({ keyId: 'tests', endUserIp: null, endUserAgent: null }); // fetch above passed no end user
    expect(audit.body.entries[5]).toMatchObject({
      actor,
      recordedIn: 'audit-log',
      detail: { artifacts: 2, deleted: 2 },
    });
    // A second erasure answers the same (nothing is held any more), and is recorded too.
    expect((await call('DELETE', `/v1/verifications/${done.id}/personal-data`)).body).toMatchObject({
      deleted: 2,
      keptForOthers: 0,
    });
    expect((await call('DELETE', '/v1/verifications/finwave:never-was/personal-data')).status).toBe(404);
  });

  test('erasing a running verification: its uploads go, bytes another verification also stored stay for it; the workflow records it', async () => {
    const page = jpeg('same page for two verifications');
    const first = await id360WithPage(page);
    const second = await id360WithPage(page);
    const sha = crypto.createHash('sha256').update(page).digest('hex');

    const erased = await call('DELETE', `/v1/verifications/${first}/personal-data`);
    expect(erased.body).toMatchObject({ deleted: 0, keptForOthers: 1, recordedIn: ['audit-log', 'workflow'] });
    expect(erased.body.artifacts).toEqual([{ kind: 'id360-document-page-0', sha256: sha, deleted: false }]);
    expect(await stack.store.has(sha)).toBe(true);
    expect((await call('GET', `/v1/verifications/${second}/evidence/${sha}`)).status).toBe(200);
    const state = await stack.waitFor(first, (s) => s.timeline.some((t) => t.event === 'personal data erased'));
    expect(state.status).toBe('awaiting_user'); // erasure does not stop the flow: cancel does

    const again = await call('DELETE', `/v1/verifications/${second}/personal-data`);
    expect(again.body).toMatchObject({ deleted: 1, keptForOthers: 0 });
    expect(await stack.store.has(sha)).toBe(false);

    // The ID360 consent and who drove each step, in order.
    const audit = (await call('GET', `/v1/verifications/${first}/audit`)).body.entries as {
      event: string;
      actor: unknown;
      recordedIn: string;
    }[];
    // Each step at the time it was asked; what the workflow recorded while answering follows it.
    expect(audit.map((e) => e.event)).toEqual([
      'created',
      'action consent',
      'consent accepted',
      'action upload-document-page',
      'personal data erased',
    ]);
    expect(audit.filter((e) => e.event === 'personal data erased')).toHaveLength(1); // in both places, listed once
    for (const id of [first, second]) await call('POST', `/v1/verifications/${id}/cancel`, { reason: 'test over' });
    const cancelled = (await call('GET', `/v1/verifications/${first}/audit`)).body.entries.at(-1);
    expect(cancelled).toMatchObject({
      event: 'cancel requested',
      actor: { keyId: 'tests', endUserIp: '203.0.113.7' },
      detail: { reason: 'test over' },
    });
  });
});
