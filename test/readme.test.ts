/**
 * The README cannot drift: its walk-through shell blocks (the ```bash ones) run as written, in order, in
 * one bash (as pasted into one terminal), against the whole stack on free ports (IDV_API / IDV_SANDBOX /
 * TEMPORAL_ADDRESS, which the blocks read with `npm start`'s defaults). `curl` fails on any HTTP error
 * here (--fail-with-body), so a README command that answers 4xx fails the test.
 *
 * And `npm run demo` (the Quickstart's first suggestion) plays its flows to their expected endings
 * against the same stack.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectToTestTemporal, type TestTemporal } from './helpers/temporal';
import { startStack, type Stack } from './helpers/stack';

const ROOT = path.join(__dirname, '..');
const DEV_KEY = 'dev-api-key'; // the README's key
let temporal: TestTemporal;
let stack: Stack;

beforeAll(async () => {
  temporal = await connectToTestTemporal();
  // No API_KEYS, as with `npm start`: the API accepts the development key (too short to be configured).
  stack = await startStack({ ...temporal, env: { API_KEYS: undefined as unknown as string } });
});

afterAll(async () => {
  await stack?.stop();
  await temporal?.close();
});

/** The README's ```bash blocks (also indented ones, in list items), with their line numbers. */
export function readmeBashBlocks(markdown: string): { line: number; code: string }[] {
  const blocks: { line: number; code: string }[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```bash\s*$/.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!.length;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j]!); j++) body.push(lines[j]!.slice(indent));
    blocks.push({ line: i + 1, code: body.join('\n') });
    i = j;
  }
  return blocks;
}

function run(
  cmd: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs: number,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

const stackEnv = () => ({
  IDV_API: stack.apiUrl,
  IDV_SANDBOX: stack.sandboxUrl,
  IDV_API_KEY: DEV_KEY,
  TEMPORAL_ADDRESS: temporal.address,
});

test('the README walk-throughs run as written against the stack', async () => {
  const blocks = readmeBashBlocks(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
  expect(blocks.length).toBeGreaterThanOrEqual(8);
  const script = [
    'set -euo pipefail',
    // A README command that answers an HTTP error fails the run (the reader would see the error body).
    'curl() { command curl --fail-with-body "$@"; }',
    ...blocks.flatMap((b, i) => [`echo; echo "### README block ${i + 1} (README.md line ${b.line})"`, b.code]),
    'echo; echo "### README: all blocks ran"',
  ].join('\n');
  const { code, out } = await run('bash', ['-c', script], stackEnv(), 240_000);
  if (code !== 0) throw new Error(`a README block failed (exit ${code}); the end of its output:\n${out.slice(-4000)}`);
  expect(out).toContain('### README: all blocks ran');
  // Every walk-through that waits for its ending (Finwave, Fourthline, ID360 twice, Authenteq, Namirial) is approved.
  // (What `idv.js wait` prints: {"id","status","outcome","reason",…}; curl's answers have no final newline.)
  const endings = [...out.matchAll(/\{"id":"(\w+):[^"]*","status":"(\w+)","outcome":"?(\w+)"?,"reason"/g)].map((m) => ({
    provider: m[1],
    ending: `${m[2]}/${m[3]}`,
  }));
  expect(endings.map((e) => e.provider).sort()).toEqual([
    'authenteq',
    'finwave',
    'fourthline',
    'id360',
    'id360',
    'namirial',
  ]);
  expect(endings.every((e) => e.ending === 'completed/approved')).toBe(true);
  expect(out).toMatch(/"status":"cancelled"/);
  // The CLI blocks reached the server: the decoded history, the list by workflow id.
  expect(out).toContain('WorkflowExecutionStarted');
}, 300_000);

test('npm run demo plays every vendor to its expected ending and prints the Web UI links', async () => {
  const { code, out } = await run(
    'node',
    ['-r', 'ts-node/register/transpile-only', 'sandboxes/demo.ts'],
    { ...stackEnv(), IDV_WEB_UI: 'http://ui.test' },
    240_000,
  );
  fs.writeFileSync(path.join(os.tmpdir(), 'idv-demo-output.txt'), out); // to read what a user sees
  if (code !== 0) throw new Error(`npm run demo exited ${code}:\n${out.slice(-4000)}`);
  expect(out).toContain('Every flow ended as expected.');
  for (const p of ['finwave', 'fourthline', 'id360', 'authenteq', 'namirial']) {
    expect(out).toMatch(
      new RegExp(`^  ok   ${p} .*completed/approved .*http://ui\\.test/namespaces/default/workflows/${p}%3Ademo-`, 'm'),
    );
    expect(out).toMatch(new RegExp(`^  ok   ${p} .*completed/rejected `, 'm'));
  }
  expect(out).toMatch(/^  http:\/\/ui\.test\/namespaces\/default\/workflows\?query=/m);
  // The printed list query finds exactly the demo's workflows.
  const query = /^All of them in one list \(query\): (.+)$/m.exec(out)![1]!;
  const listed = await run(
    'bash',
    ['temporal-dev/cli.sh', 'workflow', 'list', '--query', query, '--output', 'json'],
    stackEnv(),
    60_000,
  );
  expect(listed.code).toBe(0);
  expect((JSON.parse(listed.out) as unknown[]).length).toBe(10);
}, 300_000);
