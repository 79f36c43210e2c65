/**
 * One model across vendors: every ending of every vendor that its sandbox plays (sandboxes/play.ts, the
 * scripted users of `npm run demo`), through the real stack, ends with the normalized status × outcome
 * the README's table gives for it ("What the API answers"), in the API and in the search attributes.
 * A vendor's rejection is `completed/rejected` for all five.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SCENARIOS, waitForEnd, type PlayTarget } from '../sandboxes/play';
import { connectToTestTemporal, type TestTemporal } from './helpers/temporal';
import { API_KEY, startStack, type Stack } from './helpers/stack';

let temporal: TestTemporal;
let stack: Stack;
let target: PlayTarget;
const run = crypto.randomBytes(3).toString('hex');

beforeAll(async () => {
  temporal = await connectToTestTemporal();
  stack = await startStack(temporal);
  target = { api: stack.apiUrl, sandbox: stack.sandboxUrl, key: API_KEY };
});

afterAll(async () => {
  await stack?.stop();
  await temporal?.close();
});

/** The README table's rows: `| \`completed\` | \`rejected\` | …`. */
function readmeEndings(): Set<string> {
  const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
  const rows = [...readme.matchAll(/^\| `(\w+)` \| `(\w+|null)` \|/gm)].map((m) => `${m[1]}/${m[2]}`);
  return new Set(rows);
}

test('the README table lists every ending, and a rejection is completed/rejected', () => {
  const table = readmeEndings();
  for (const s of SCENARIOS) expect(table).toContain(`${s.expected.status}/${s.expected.outcome}`);
  expect(table).toContain('completed/rejected');
  expect(table).not.toContain('failed/rejected');
});

test('every vendor has scenarios for approved and rejected', () => {
  for (const p of ['finwave', 'fourthline', 'id360', 'authenteq', 'namirial']) {
    const outcomes = SCENARIOS.filter((s) => s.provider === p).map((s) => s.expected.outcome);
    expect(outcomes).toEqual(expect.arrayContaining(['approved', 'rejected']));
  }
});

test.each(SCENARIOS.map((s) => [`${s.provider} ${s.name}`, s] as const))(
  '%s ends as the table says, in the API and the search attributes',
  async (_label, s) => {
    const lines: string[] = [];
    const id = await s.play(target, `nm-${run}-${s.name}`, (l) => lines.push(l));
    const v = await waitForEnd(target, id, 60_000);
    expect({ id, status: v.status, outcome: v.outcome }).toEqual({ id, ...s.expected });
    // The list in the Web UI shows the same: VerificationStatus / VerificationOutcome.
    const sa = (await temporal.client.workflow.getHandle(id).describe()).searchAttributes as Record<string, unknown[]>;
    expect(sa.VerificationStatus).toEqual([s.expected.status]);
    if (s.expected.outcome) expect(sa.VerificationOutcome).toEqual([s.expected.outcome]);
    // What the integrator does next: nothing after an approval, a new verification after the rest.
    if (s.expected.outcome === 'approved') expect(v.nextAction.type).toBe('none');
  },
  90_000,
);
