/**
 * Replays the recorded corpus against today's workflow code: a change that would break
 * verifications already running on this build fails here (README "Changing workflow code").
 *
 * - test/histories/*.json: recorded by `npm run record-histories` (test/record-histories.ts) for all
 *   five vendors, each normalized ending and the human-step paths; payloads encrypted under the corpus
 *   test key (test/fixtures/payload-keys.ts).
 * - test/histories/<patch id>/*.json, for each id listed in workflows/patches.ts: the histories recorded
 *   before that `patched()` change, which replay its old branch (none at 1.0.0).
 *
 * The corpus replays through the worker's own setup (workers/index.ts bundleWorkflows, the tracing
 * worker options of observability/tracing.ts) twice: with OTEL_EXPORTER_OTLP_ENDPOINT unset and set.
 * The workflow bundle is the same either way (the OpenTelemetry workflow interceptors are always in
 * it), so switching tracing on or off is never a new build.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import { dataConverter } from '../codec';
import { loadConfig } from '../config';
import { installTracing, tracingWorkerOptions, type Tracing } from '../observability/tracing';
import { PATCHES } from '../workflows/patches';
import { bundleWorkflows } from '../workers';
import { corpusKeyring } from './fixtures/payload-keys';
import { workflowBundle } from './helpers/stack';
import { installTestRuntime } from './helpers/temporal';

installTestRuntime(); // worker logs at WARN

const root = path.join(__dirname, 'histories');
const list = (dir: string) =>
  fs
    .readdirSync(path.join(root, dir))
    .filter((f) => f.endsWith('.json'))
    .map((f) => path.join(dir, f));
const corpus = list('.');
const beforePatches = Object.keys(PATCHES).flatMap((id) => (fs.existsSync(path.join(root, id)) ? list(id) : []));
const files = [...corpus, ...beforePatches];

async function replay(bundle: WorkflowBundle, file: string): Promise<void> {
  // The worker converts the CLI's JSON form itself; the corpus key decrypts the payloads.
  const history: unknown = JSON.parse(fs.readFileSync(path.join(root, file), 'utf8'));
  await Worker.runReplayHistory(
    { workflowBundle: bundle, dataConverter: dataConverter(corpusKeyring()), ...tracingWorkerOptions() },
    history,
    file,
  );
}

test('the corpus covers all five vendors, every normalized ending and the human steps', () => {
  const names = corpus.map((f) => path.basename(f, '.json'));
  for (const vendor of ['finwave', 'fourthline', 'id360', 'authenteq', 'namirial']) {
    expect(names.filter((n) => n.startsWith(`${vendor}-`)).length).toBeGreaterThanOrEqual(4);
    expect(names).toContain(names.find((n) => n.startsWith(`${vendor}-cancelled`)));
  }
  for (const ending of ['approved', 'rejected', 'abandoned', 'expired', 'error', 'cancelled'])
    expect(names.some((n) => n.includes(ending))).toBe(true);
  // The human steps: Fourthline's signature attempt (a child) and ID360's uploads, browser returns.
  expect(names).toEqual(
    expect.arrayContaining([
      'fourthline-signed-with-resend.attempt-1',
      'id360-uploads-approved',
      'authenteq-return-approved',
      'namirial-return-approved',
    ]),
  );
});

describe('OTEL_EXPORTER_OTLP_ENDPOINT unset', () => {
  test.each(files)('%s replays deterministically', async (file) => {
    await replay(await workflowBundle(), file);
  });
});

describe('OTEL_EXPORTER_OTLP_ENDPOINT set', () => {
  let tracing: Tracing | null = null;
  let bundle: WorkflowBundle;
  const saved = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;

  beforeAll(async () => {
    // As workers/main.ts does: the endpoint from the config, tracing installed, then the bundle. Nothing
    // is exported: a replay worker never calls the span exporter sink.
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = 'http://127.0.0.1:9/otlp';
    const { telemetry } = loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: process.env.OTEL_EXPORTER_OTLP_ENDPOINT });
    tracing = installTracing({ serviceName: 'idv-replay-test', otlpEndpoint: telemetry.otlpEndpoint });
    bundle = await bundleWorkflows();
  }, 120_000);

  afterAll(async () => {
    await tracing?.shutdown();
    if (saved === undefined) delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    else process.env.OTEL_EXPORTER_OTLP_ENDPOINT = saved;
  });

  test('tracing is on, and the workflow bundle is the one built without it', async () => {
    expect(tracing).not.toBeNull();
    expect(tracingWorkerOptions().interceptors?.activity).toHaveLength(1);
    expect(bundle.code).toBe((await workflowBundle()).code);
  });

  test.each(files)('%s replays deterministically', async (file) => {
    await replay(bundle, file);
  });
});
