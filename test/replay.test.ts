/**
 * Replays the recorded corpus against today's workflow code: a change that would break
 * verifications already running on this build fails here (README "Changing workflow code").
 *
 * - test/histories/*.json: recorded by `npm run record-histories` (test/record-histories.ts) for all
 *   five vendors, each normalized ending and the human-step paths; payloads encrypted under the
 *   corpus test key (test/fixtures/payload-keys.ts).
 * - test/histories/pre-patch/<patch id>/*.json: recorded before a `patched('<patch id>')` change;
 *   they replay its old branch. Delete the folder when that patch becomes `deprecatePatch`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { dataConverter } from '../codec';
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
const prePatch = fs.existsSync(path.join(root, 'pre-patch'))
  ? fs.readdirSync(path.join(root, 'pre-patch')).flatMap((p) => list(path.join('pre-patch', p)))
  : [];
const files = [...corpus, ...prePatch];

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

test.each(files)('%s replays deterministically', async (file) => {
  // The worker converts the CLI's JSON form itself; the corpus key decrypts the payloads.
  const history: unknown = JSON.parse(fs.readFileSync(path.join(root, file), 'utf8'));
  await Worker.runReplayHistory(
    { workflowBundle: await workflowBundle(), dataConverter: dataConverter(corpusKeyring()) },
    history,
    file,
  );
});
