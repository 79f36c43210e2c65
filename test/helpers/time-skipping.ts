/**
 * The worker, the activities and the vendor sandboxes on the Java time-skipping test server, for
 * tests of the vendors' real durations. No API: nobody listens at PUBLIC_BASE_URL, so webhooks and
 * callbacks are lost on purpose and only the workflows' own polling finds a status.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { loadConfig, type AppConfig } from '../../config';
import { FolderEvidenceStore } from '../../activities/evidence-store';
import { createSandboxServer, type SandboxServer, type SandboxServerOptions } from '../../sandboxes/server';
import { createWorkers } from '../../workers';
import { freePort } from '../../temporal-dev/dev-server';
import { createTimeSkippingEnv } from './temporal';
import { workflowBundle } from './stack';
import { id360Applicant, id360Compare, id360Input, id360Options } from '../../client/providers/id360';
import { namirialApplicant, namirialInput, namirialOptions } from '../../client/providers/namirial';
import { authenteqInput, authenteqOptions } from '../../client/providers/authenteq';

export interface TimeSkippingService {
  env: TestWorkflowEnvironment;
  config: AppConfig;
  sandbox: SandboxServer;
  stop(): Promise<void>;
}

export async function startTimeSkippingService(
  sandboxOptions: Omit<SandboxServerOptions, 'publicUrl'> = {},
): Promise<TimeSkippingService> {
  const env = await createTimeSkippingEnv();
  const sandboxPort = await freePort();
  const evidenceDir = fs.mkdtempSync(path.join(os.tmpdir(), 'idv-evidence-'));
  const config = loadConfig({
    SANDBOX_PORT: String(sandboxPort),
    EVIDENCE_DIR: evidenceDir,
    PUBLIC_BASE_URL: `http://127.0.0.1:${await freePort()}`,
    TASK_QUEUE_PREFIX: `ts${crypto.randomBytes(3).toString('hex')}`,
  });
  // The sandbox's "Customer Dashboard" registers this service's Authenteq return URL.
  const sandbox = createSandboxServer({
    publicUrl: config.sandbox.baseUrl,
    authenteq: { redirectUrls: [config.vendors.authenteq.redirectUrl] },
    ...sandboxOptions,
  });
  await sandbox.app.listen({ host: '127.0.0.1', port: sandboxPort });
  const workers: Worker[] = await createWorkers({
    connection: env.nativeConnection,
    config,
    store: new FolderEvidenceStore(evidenceDir),
    workflowBundle: await workflowBundle(),
  });
  const running = Promise.all(workers.map((w) => w.run()));
  return {
    env,
    config,
    sandbox,
    async stop() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await running;
      await sandbox.close();
      await env.teardown();
      fs.rmSync(evidenceDir, { recursive: true, force: true });
    },
  };
}

/**
 * Workflow starts without the API, for the vendors whose flow needs no human step to begin: the
 * workflow type and the input the API would give it with default options (sandbox values only).
 */
export const DIRECT_STARTS: Record<string, (id: string, reference: string) => { type: string; input: unknown }> = {
  id360: (id, reference) => ({
    type: 'id360Enrollment',
    input: id360Input(id, reference, id360Applicant.parse({}), id360Compare.parse({}), id360Options.parse({})),
  }),
  namirial: (id, reference) => ({
    type: 'namirialEnrollment',
    input: namirialInput(
      id,
      reference,
      namirialApplicant.parse({ firstName: 'Giulia', lastName: 'Rossi', email: 'giulia@example.it' }),
      namirialOptions.parse({}),
    ),
  }),
  authenteq: (id, reference) => ({
    type: 'authenteqVerification',
    input: authenteqInput(id, reference, authenteqOptions.parse({})),
  }),
};
