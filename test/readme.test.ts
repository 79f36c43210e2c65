/**
 * The README and docs/ cannot drift: their walk-through shell blocks (the ```bash ones; ```sh blocks are
 * shown, never run: production settings, clusters, long runs, placeholders) run as written, in one bash (as
 * pasted into one terminal): the README's in order, then each docs/*.md file's in order, files by name. They
 * run against the whole stack on free ports (IDV_API / IDV_SANDBOX / TEMPORAL_ADDRESS, which the blocks read
 * with `npm start`'s defaults). `curl` fails on any HTTP error here (--fail-with-body), so a documented
 * command that answers 4xx fails the test. The docs' blocks use the variables of the README's first block.
 *
 * Every relative link between these files reaches an existing file, and its #anchor an existing heading.
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
/** The README, then docs/*.md by name: the order their bash blocks run in. */
const DOCS = [
  'README.md',
  ...fs
    .readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];
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

/** A Markdown file's ```bash blocks (also indented ones, in list items), with their line numbers. */
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

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to dashes. */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .replace(/ /g, '-');
}

/** The anchors of a Markdown file's headings (outside code blocks), with GitHub's -1, -2 for repeats. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of markdown.replace(/^\s*```[\s\S]*?^\s*```/gm, '').split('\n')) {
    const h = /^#{1,6} (.+)$/.exec(line);
    if (!h) continue;
    const a = anchorOf(h[1]!);
    const n = seen.get(a) ?? 0;
    seen.set(a, n + 1);
    anchors.add(n ? `${a}-${n}` : a);
  }
  return anchors;
}

test('every link between the README, docs/ and sandboxes/README.md reaches a file and a heading', () => {
  const files = [...DOCS, 'sandboxes/README.md'];
  const broken: string[] = [];
  for (const file of files) {
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8').replace(/^\s*```[\s\S]*?^\s*```/gm, '');
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1]!;
      if (/^[a-z]+:/.test(target)) continue; // http(s), mailto
      const [rel, anchor] = target.split('#') as [string, string | undefined];
      const to = rel ? path.join(path.dirname(file), rel) : file;
      if (!fs.existsSync(path.join(ROOT, to))) broken.push(`${file}: ${target} (no file ${to})`);
      else if (anchor && !anchorsOf(fs.readFileSync(path.join(ROOT, to), 'utf8')).has(anchor))
        broken.push(`${file}: ${target} (no heading #${anchor} in ${to})`);
    }
  }
  expect(broken).toEqual([]);
});

test('the README and docs/ walk-throughs run as written against the stack', async () => {
  const files = DOCS.map((file) => ({
    file,
    blocks: readmeBashBlocks(fs.readFileSync(path.join(ROOT, file), 'utf8')),
  }));
  expect(files[0]!.blocks.length).toBeGreaterThanOrEqual(3); // the README: setup, Finwave, cancel
  expect(files.find((f) => f.file === 'docs/vendors.md')?.blocks.length).toBeGreaterThanOrEqual(4);
  const script = [
    'set -euo pipefail',
    // A documented command that answers an HTTP error fails the run (the reader would see the error body).
    'curl() { command curl --fail-with-body "$@"; }',
    ...files.flatMap(({ file, blocks }) =>
      blocks.flatMap((b, i) => [`echo; echo "### ${file} block ${i + 1} (line ${b.line})"`, b.code]),
    ),
    'echo; echo "### README and docs: all blocks ran"',
  ].join('\n');
  const { code, out } = await run('bash', ['-c', script], stackEnv(), 240_000);
  if (code !== 0)
    throw new Error(`a documented block failed (exit ${code}); the end of its output:\n${out.slice(-4000)}`);
  expect(out).toContain('### README and docs: all blocks ran');
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
  expect(out).toMatch(/^ {2}http:\/\/ui\.test\/namespaces\/default\/workflows\?query=/m);
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
