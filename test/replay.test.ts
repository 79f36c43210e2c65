/**
 * Replays recorded histories (test/histories/*.json, exported with `temporal workflow show -o json`)
 * against today's workflow code: a change that would break verifications already running fails here.
 * Record a new one after a deliberate, versioned change to a workflow (see test/histories/README.md).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from './helpers/stack';
import { installTestRuntime } from './helpers/temporal';

installTestRuntime(); // worker logs at WARN

const dir = path.join(__dirname, 'histories');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));

test('there are recorded histories to replay', () => {
  expect(files.length).toBeGreaterThanOrEqual(4);
});

test.each(files)('%s replays deterministically', async (file) => {
  // The worker converts the CLI's JSON form itself.
  const history: unknown = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, file);
});
